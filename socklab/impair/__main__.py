"""``python3 -m socklab.impair``: run the engine, or ``--list`` the profiles (see __init__)."""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import datetime
import gc
import ipaddress
import json
import os
import selectors
import signal
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from socklab.impair import iptables, nfqueue, profiles
from socklab.impair.control import Server
from socklab.impair.engine import Engine


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python3 -m socklab.impair", description="socklab's impairment engine (NFQUEUE)"
    )
    p.add_argument("--profile", default="clean", help="profile name (default: clean)")
    p.add_argument("--profiles", type=Path, help="profiles file (default: the built-in one)")
    p.add_argument("--seed", type=int, default=0, help="master seed (default: 0)")
    p.add_argument("--queue", type=int, default=0, help="NFQUEUE number (default: 0)")
    p.add_argument(
        "--maxlen", type=int, default=8192, help="packets the kernel may hold for us (default: 8192)"
    )
    p.add_argument(
        "--client-net",
        default=os.environ.get("SOCKLAB_CLIENT_SUBNET"),
        help="the client's subnet: its packets go c2s (default: $SOCKLAB_CLIENT_SUBNET)",
    )
    p.add_argument("--log", type=Path, help="write the JSON-lines event log here")
    p.add_argument(
        "--control",
        default="/run/socklab-impair.sock",
        help="control socket path (default: /run/socklab-impair.sock)",
    )
    p.add_argument(
        "--no-iptables",
        action="store_true",
        help="do not install the FORWARD rule (someone else queues packets)",
    )
    p.add_argument("--list", action="store_true", help="validate and list the profiles, exit")
    return p


PR_SET_TIMERSLACK = 29
# What the start line says of the order of the lines after it (see engine.py).
ORDER = (
    "lines are written as fates are sealed, each write's in arrival order; a held "
    "packet's line comes when it leaves: sort by id for arrival order"
)


def _fine_timers() -> None:
    """Wake on time: the kernel's default 50 us timer slack is a good part of the delay error."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_TIMERSLACK, 1, 0, 0, 0)
    except (OSError, AttributeError):
        return  # not Linux's libc: keep the default slack


def _net(text: str | None) -> ipaddress.IPv4Network:
    if not text:
        raise ValueError("the client's subnet is needed: give --client-net or set SOCKLAB_CLIENT_SUBNET")
    try:
        return ipaddress.IPv4Network(text, strict=False)
    except ValueError:
        raise ValueError(f"--client-net must be an IPv4 subnet, not {text!r}") from None


def _header(args: argparse.Namespace, out: IO[str] | None) -> None:
    if out is None:
        return
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")
    out.write(
        json.dumps(
            {
                "event": "start",
                "t": round(time.monotonic(), 6),
                "wall": now,
                "seed": args.seed,
                "profile": args.profile,
                "queue": args.queue,
                "host": socket.gethostname(),
                "order": ORDER,
            }
        )
        + "\n"
    )


def serve(args: argparse.Namespace) -> int:
    profile = profiles.get(args.profile, args.profiles)
    client_net = _net(args.client_net)
    # A 64 KiB buffer: one write(2) per some 250 packets' lines instead of per 30; the
    # engine flushes it every 0.25 s anyway.
    log_file = (
        open(args.log, "a", encoding="utf-8", buffering=1 << 16)  # noqa: SIM115
        if args.log
        else None
    )
    _header(args, log_file)
    _fine_timers()
    queue = nfqueue.Queue(args.queue, args.maxlen)
    injector = None
    try:
        injector = nfqueue.Injector()
        engine = Engine(queue, injector, profile, args.seed, client_net, log_file)
        selector = selectors.SelectSelector()  # microsecond timeouts; few descriptors
        with _stop_on_signals(engine, selector):
            _run(engine, selector, args)
    finally:
        queue.close()
        if injector is not None:
            injector.close()
        if log_file is not None:
            log_file.close()
    return 0


@contextlib.contextmanager
def _stop_on_signals(engine: Engine, selector: selectors.BaseSelector) -> Iterator[None]:
    """SIGTERM and SIGINT end the loop; the wakeup socket interrupts its select()."""
    wake_r, wake_w = socket.socketpair()
    wake_r.setblocking(False)
    wake_w.setblocking(False)
    selector.register(wake_r, selectors.EVENT_READ, lambda: wake_r.recv(64))

    def stop(signum: int, frame: object) -> None:
        engine.stopping = True

    previous = signal.set_wakeup_fd(wake_w.fileno())
    handlers = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for s, handler in handlers.items():
            signal.signal(s, handler)
        signal.set_wakeup_fd(previous)  # before the socket goes: its number could be reused
        selector.unregister(wake_r)
        wake_r.close()
        wake_w.close()


def _run(engine: Engine, selector: selectors.BaseSelector, args: argparse.Namespace) -> None:
    """Install the rule, open the control socket (that means ready), serve, undo it all."""
    installed, control = False, None
    try:
        if not args.no_iptables:
            iptables.install(args.queue)
            installed = True
        control = Server(engine, args.control, selector, args.profiles)
        print(
            f"socklab-impair: queue {args.queue}, profile {engine.profile.name}, "
            f"seed {engine.seed}, control {args.control}",
            file=sys.stderr,
            flush=True,
        )
        # What start-up made (modules, tables) is never garbage: out of the collector's
        # sight, a full collection scans only what packets made (pauses of ~1 ms otherwise).
        gc.freeze()
        engine.run(selector)
    finally:
        try:
            if installed:
                iptables.remove()  # first: no new packets while the held ones leave
        finally:
            early = engine.drain(2.0)
            if control is not None:
                control.close()
            engine.write(
                {
                    "event": "stop",
                    "t": round(engine.clock(), 6),
                    "released_early": early,
                    "overload": dict(engine.stats.overload),
                }
            )


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.list:
            for name, profile in profiles.load(args.profiles).items():
                print(f"{name:<10} {profile.description}")
            return 0
        return serve(args)
    except (ValueError, OSError) as exc:
        print(f"socklab-impair: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
