"""The TCP vs UDP demonstration: the same data over both, through the router, at each loss rate.

One topology with the impairment engine. For each loss rate (on the data's way,
client to server, or both ways; plus an optional delay each way) the link is set with
the demo's seed, then the client sends ``size`` bytes to the server over TCP once per
congestion control asked for, and once over UDP (numbered, self-checking datagrams).
What arrived is measured at the receiver; TCP's retransmissions, MSS and RTT are the
sender kernel's own. The results are rows (``Row``); ``socklab.demo_report`` turns them
into a table, a CSV and a plot, and checks the invariants the demonstration exists to show.
"""

from __future__ import annotations

import json
import math
import subprocess
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone

from socklab import compose, congestion, images, impairing, runner
from socklab import lab as labs
from socklab.checking import observe
from socklab.checking.programs import docker_exec, run_exec
from socklab.errors import PlatformError, SocklabError

DEMO = ["python3", "/socklab/demo.py"]
TCP_PORT, UDP_PORT = 7001, 7002
DATAGRAM = 1024  # bytes per UDP datagram, its 4-byte number included
UDP_INTERVAL_MS = 0.5
LOSSES = (0.0, 0.01, 0.05, 0.10, 0.20, 0.30)
# Where the link loses: client to server only (the data's way: the loss the Mathis model
# means), or both ways (ACKs too: Reno then falls well below the model at 10 %).
LOSS_ON = {"data": "client→server only (data, not ACKs)", "both": "both ways"}
DEFAULT_LOSS_ON = "data"
SIZE = 1 << 20  # at 1 % loss, a shorter transfer is mostly slow start, which the model does not describe


@dataclass(frozen=True)
class Row:
    """One protocol at one loss rate. TCP counts bytes, UDP datagrams (``unit``)."""

    protocol: str
    loss: float  # client to server (the data's way), and server to client too if loss_on is "both"
    delay_ms: float
    unit: str
    sent: int
    delivered: int  # distinct units the application received intact
    in_order: int  # of those, arrived after every lower-numbered one (TCP: the correct prefix)
    duplicates: int
    corrupted: int
    retransmissions: int | None  # TCP segments the sender's kernel sent again; None for UDP
    completion_s: float  # TCP: until everything was read; UDP: until the last was sent
    finished: bool
    timeout_s: float
    delivered_bytes: int
    order: tuple[int, ...] = field(default=(), compare=True, repr=False)  # UDP: arrival order
    loss_on: str = DEFAULT_LOSS_ON
    cc: str = ""  # TCP: the congestion control the sender's socket used
    mss: int = 0  # TCP: the sender's MSS (TCP_MAXSEG), bytes
    rtt_ms: float = 0.0  # TCP: the smallest RTT the sender's kernel measured

    @property
    def delivered_pct(self) -> float:
        return 100 * self.delivered / self.sent if self.sent else 100.0

    @property
    def in_order_pct(self) -> float:
        return 100 * self.in_order / self.sent if self.sent else 100.0

    @property
    def goodput_kBps(self) -> float:
        return self.delivered_bytes / 1000 / self.completion_s if self.completion_s > 0 else 0.0

    @property
    def model_kBps(self) -> float | None:
        """TCP: the Mathis model's goodput for this loss, MSS and RTT; None where undefined."""
        if self.protocol != "TCP":
            return None
        expected = congestion.mathis(self.mss, self.rtt_ms / 1000, self.loss)
        return None if expected is None else expected / 1000


def parse_losses(text: str) -> tuple[float, ...]:
    """``"0,1,5"`` (percent) as fractions; a message naming the bad value otherwise."""
    try:
        values = tuple(float(v) / 100 for v in text.split(",") if v.strip())
    except ValueError:
        raise SocklabError(f"--losses takes percentages separated by commas, not {text!r}") from None
    bad = [v for v in values if not 0 <= v < 1]
    if not values or bad:
        raise SocklabError(f"each loss must be a percentage from 0 to below 100, not {text!r}")
    return values


def link_config(loss: float, delay_ms: float, loss_on: str = DEFAULT_LOSS_ON) -> dict:
    """The engine's table for one step: ``delay_ms`` both ways, ``loss`` client to server
    (the data's way) and, if ``loss_on`` is "both", server to client (the ACKs') too."""
    delay = {"delay_ms": delay_ms} if delay_ms else {}
    return {"c2s": {"loss": loss, **delay}, "s2c": {"loss": loss if loss_on == "both" else 0.0, **delay}}


def in_order_count(order: Iterable[int]) -> int:
    """Datagrams that arrived after every lower-numbered one that arrived."""
    highest, count = -1, 0
    for seq in order:
        if seq > highest:
            highest, count = seq, count + 1
    return count


def udp_row(
    loss: float, delay_ms: float, sent: int, sink: dict, send: dict, loss_on: str = DEFAULT_LOSS_ON
) -> Row:
    order = tuple(sink["order"])
    return Row(
        "UDP",
        loss,
        delay_ms,
        "datagrams",
        sent,
        sink["unique"],
        in_order_count(order),
        sink["duplicates"],
        sink["corrupted"],
        None,
        float(send["elapsed"]),
        True,
        0.0,
        sink["unique"] * DATAGRAM,
        order,
        loss_on,
    )


def tcp_row(
    loss: float,
    delay_ms: float,
    size: int,
    timeout: float,
    recv: dict,
    send: dict,
    loss_on: str = DEFAULT_LOSS_ON,
) -> Row:
    finished = bool(send["finished"]) and recv["received"] == size
    corrupted = recv["received"] - recv["in_order"] if recv["received"] <= size else 0
    return Row(
        "TCP",
        loss,
        delay_ms,
        "bytes",
        size,
        min(recv["received"], size),
        recv["in_order"],
        max(recv["received"] - size, 0),
        corrupted,
        int(send["retransmissions"]),
        float(send["elapsed"]),
        finished,
        timeout,
        recv["in_order"],
        (),
        loss_on,
        send.get("cc", ""),
        int(send.get("mss", 0)),
        send.get("min_rtt_us", 0) / 1000,
    )


class Receiver:
    """The demo's TCP receiver in the server container: listening on return."""

    def __init__(self, container: str, args: list[str], timeout: float) -> None:
        self.timeout = timeout
        self.proc = subprocess.Popen(
            docker_exec(container, [*DEMO, *args]), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        first = self.proc.stdout.readline() if self.proc.stdout else ""
        if '"listening"' not in first:
            self.proc.kill()
            err = self.proc.stderr.read() if self.proc.stderr else ""
            raise PlatformError(f"the demo's receiver did not start: {first}{err}")

    def result(self) -> dict:
        try:
            out, err = self.proc.communicate(timeout=self.timeout + 30)
        except subprocess.TimeoutExpired as exc:
            self.proc.kill()
            raise PlatformError("the demo's receiver did not finish") from exc
        if self.proc.returncode != 0:
            raise PlatformError(f"the demo's receiver failed: {err.strip()[-1500:]}")
        return json.loads(out.strip().splitlines()[-1])


def run_tcp(
    topo: compose.Topology, size: int, seed: int, timeout: float, cc: str | None = None
) -> tuple[dict, dict]:
    """One transfer, with congestion control ``cc`` (None: the kernel's default)."""
    common = [
        "--port",
        str(TCP_PORT),
        "--size",
        str(size),
        "--seed",
        str(seed),
        *(["--cc", cc] if cc else []),
    ]
    receiver = Receiver(
        topo.container("server"), ["tcp-recv", *common, "--timeout", str(timeout + 10)], timeout + 10
    )
    argv = [*DEMO, "tcp-send", "--host", "server", *common, "--timeout", str(timeout)]
    out = run_exec(topo.container("client"), argv, timeout=timeout + 60)
    if out.returncode != 0:
        raise PlatformError(f"the demo's sender failed (exit {out.returncode}): {out.stderr[-1500:]}")
    return receiver.result(), json.loads(out.stdout.strip().splitlines()[-1])


def kernel(topo: compose.Topology) -> congestion.Kernel:
    """The congestion controls the client's kernel offers its unprivileged sockets."""
    out = run_exec(topo.container("client"), [*DEMO, "cc-info"], timeout=30)
    if out.returncode != 0:
        raise PlatformError(
            f"the demo could not read the kernel's congestion controls "
            f"(exit {out.returncode}): {out.stderr[-1500:]}"
        )
    return congestion.Kernel.from_probe(json.loads(out.stdout))


def run_udp(topo: compose.Topology, count: int, delay_ms: float) -> tuple[dict, dict]:
    sink = observe.udp_sink(topo.container("server"), UDP_PORT, idle=1.5 + 2 * delay_ms / 1000, timeout=30)
    send = observe.udp_send(
        topo.container("client"), "server", UDP_PORT, count, size=DATAGRAM, interval_ms=UDP_INTERVAL_MS
    )
    return sink.result(), send


def measure_tcp(
    topo: compose.Topology,
    link: impairing.Link,
    loss: float,
    cc: str,
    *,
    loss_on: str,
    delay_ms: float,
    seed: int,
    size: int,
    tcp_timeout: float,
) -> Row:
    """One TCP transfer with congestion control ``cc`` on a link freshly set with the seed."""
    link.set(config=link_config(loss, delay_ms, loss_on), seed=seed)
    recv, send = run_tcp(topo, size, seed, tcp_timeout, cc)
    used = {send.get("cc", cc), recv.get("cc", cc)}  # absent where there was no connection
    if used != {cc}:
        raise PlatformError(
            f"the demo asked for congestion control {cc}, and its sockets used {', '.join(sorted(used))}"
        )
    return tcp_row(loss, delay_ms, size, tcp_timeout, recv, send, loss_on)


def measure(
    topo: compose.Topology,
    link: impairing.Link,
    loss: float,
    *,
    ccs: Iterable[str],
    loss_on: str,
    delay_ms: float,
    seed: int,
    size: int,
    tcp_timeout: float,
) -> Iterator[Row]:
    """TCP with each congestion control, then UDP, at one loss rate; each on a link freshly
    set with the seed, so that each meets the same draws."""
    for cc in ccs:
        yield measure_tcp(
            topo,
            link,
            loss,
            cc,
            loss_on=loss_on,
            delay_ms=delay_ms,
            seed=seed,
            size=size,
            tcp_timeout=tcp_timeout,
        )
    link.set(config=link_config(loss, delay_ms, loss_on), seed=seed)  # UDP's draws: not TCP's leftovers
    count = math.ceil(size / DATAGRAM)
    sink, sent = run_udp(topo, count, delay_ms)
    yield udp_row(loss, delay_ms, count, sink, sent, loss_on)


@contextmanager
def lab(seed: int, log: Callable[[str], None]) -> Iterator[tuple[compose.Topology, impairing.Link]]:
    """A fresh topology with the impairment engine (its log in a new runs/ folder), warmed up."""
    built = images.ensure(log=log)
    if built:
        log(f"built images in {sum(built.values()):.0f} s")
    project = compose.new_project("socklab-demo")
    when = datetime.now(timezone.utc)
    artifacts = runner.runs_dir() / f"{when:%Y%m%d-%H%M%S}-demo-{project.split('-')[-1]}"
    artifacts.mkdir(parents=True, exist_ok=True)
    artifacts.chmod(0o777)  # the engine writes its event log here
    with runner.topology(
        labs.find("1").solution, project, compose.Impairment("clean", seed, artifacts)
    ) as topo:
        run_tcp(topo, 4096, seed, 30)  # warm up (ARP, caches) so that 0 % is not the slowest
        yield topo, impairing.Link(topo.container("impair"), artifacts)
        impairing.check_health(topo.container("impair"))
    log(f"the engine's log: {artifacts}")


def offered(*, seed: int = 1, log: Callable[[str], None] = lambda _m: None) -> congestion.Kernel:
    """What the lab containers' kernel offers (``socklab demo --cc-list``)."""
    with lab(seed, log) as (topo, _link):
        return kernel(topo)


def sweep(
    losses: Iterable[float],
    *,
    ccs: Iterable[str] = (congestion.DEFAULT,),
    loss_on: str = DEFAULT_LOSS_ON,
    delay_ms: float = 0.0,
    seed: int = 1,
    size: int = SIZE,
    tcp_timeout: float = 60.0,
    log: Callable[[str], None] = lambda _m: None,
    each: Callable[[Row], None] = lambda _r: None,
) -> list[Row]:
    """Run the whole sweep on one fresh topology; rows in order (per rate: TCP with each
    congestion control, then UDP). A congestion control the kernel does not allow an
    unprivileged socket stops it before any transfer, with the fix."""
    ccs = tuple(ccs)
    if loss_on not in LOSS_ON:
        raise SocklabError(f"--loss-on must be one of {', '.join(LOSS_ON)}, not {loss_on!r}")
    rows: list[Row] = []
    started = time.monotonic()
    with lab(seed, log) as (topo, link):
        offer = kernel(topo)
        log(offer.describe())
        congestion.check(ccs, offer)
        for loss in losses:
            log(f"loss {loss:.0%} {LOSS_ON[loss_on]}" + (f", {delay_ms:g} ms each way" if delay_ms else ""))
            for row in measure(
                topo,
                link,
                loss,
                ccs=ccs,
                loss_on=loss_on,
                delay_ms=delay_ms,
                seed=seed,
                size=size,
                tcp_timeout=tcp_timeout,
            ):
                rows.append(row)
                each(row)
    log(f"swept in {time.monotonic() - started:.0f} s")
    return rows
