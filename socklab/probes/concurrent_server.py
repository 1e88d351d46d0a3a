"""Lab 5's probe: many TCP clients at once, and the server's processes as /proc shows them.

Stdlib only; runs inside a lab container and prints one JSON object (``hold`` prints a
first line once its clients are held).

  concurrent_server.py clients --host H --port P --count N [--size B] [--pieces K]
                       [--seed S] [--reset R] [--stall silent|paused|flood] [--timeout S]
  concurrent_server.py hold    --host H --port P --count N [--timeout S]
  concurrent_server.py usage   [--seconds S]
  concurrent_server.py slow    --host H --port P [--size B] [--seed S] [--pauses K] [--pause S]
                       [--timeout S]

``clients`` connects N clients one after another, then has them all talk at once: each
sends its own seeded message in K pieces (the first is one byte), waits for the echo of
each piece before sending the next, and keeps its connection open until every client is
served; then each closes its side and waits for the server to close. R of them instead
send their whole message and reset the connection: half at once, half (with 256 KiB) once
the first bytes of the echo come back, while the server still owes the rest. A ``--stall`` client is
connected before the others and held until the end: ``silent`` sends nothing, ``paused``
sends a few bytes, gets them back and then says nothing more, ``flood`` never reads and
sends until the server stops taking its bytes (then more, whenever it takes some).

A ``--size`` of 0 gives each client its own seeded size (some at a common buffer's size).

``slow`` is one client that sends B bytes, closes its sending side, and reads the echo
through a small window, pausing at K seeded points: every byte must come back, then the
server's close.

``hold`` connects N clients, has each exchange a few bytes, prints {"holding": N}, and
keeps them connected and silent until its stdin closes (--timeout bounds the first part).

``usage``, run as the server's user, reports that user's processes (but itself): open
file descriptors, threads, zombies, and with --seconds the time they spent on a CPU and
waiting for one in that window.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import os
import random
import selectors
import socket
import struct
import sys
import time

try:  # in a lab container the probes sit side by side (/socklab)
    from bounded import overflowed, stopped
except ImportError:  # imported from the socklab package (the unit tests)
    from socklab.probes.bounded import overflowed, stopped

FLOOD_CAP = 128 * 2**20  # a flooding client stops here: the server took it all in
STUCK = 1.0  # seconds without progress after which a flooding client counts as stuck
FLOOD_CHUNK = bytes(range(256)) * 256
HOLD_MAX = 120.0  # seconds that hold keeps its clients if its stdin never closes
CLOSE_TIMEOUT = 5.0  # seconds for the server to close its side after the clients close


def cut(size: int, pieces: int, rng: random.Random) -> list[int]:
    """Where each piece of a message ends: the first piece is one byte, the rest at random."""
    if pieces < 2 or size < pieces:
        return [size]
    return [1, *sorted(rng.sample(range(2, size), pieces - 2)), size]


class Client:
    """One client connection driven by the event loop; ``role`` says how it behaves."""

    def __init__(
        self, index: int, role: str, message: bytes = b"", pieces: int = 1, rng: random.Random | None = None
    ) -> None:
        self.index, self.role, self.message = index, role, message
        self.bounds = cut(len(message), pieces, rng or random.Random(index))  # where pieces end
        self.sock: socket.socket | None = None
        self.state = "new"
        self.error: str | None = None
        self.out, self.got = bytearray(), bytearray()
        self.piece = self.written = 0
        self.times: dict[str, float] = {}
        self.server_closed = False
        self.last_progress = 0.0

    def start(self, loop: Loop) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.setblocking(False)
        err = self.sock.connect_ex((loop.host, loop.port))
        if err not in (0, errno.EINPROGRESS):
            return self.fail(loop, f"connect: {os.strerror(err)}")
        self.state = "connecting"
        loop.watch(self)

    def wants(self) -> int:
        events = 0 if self.role == "flood" else selectors.EVENT_READ
        if self.state == "connecting" or self.out:
            events |= selectors.EVENT_WRITE
        if self.role == "flood" and self.state == "connected" and self.written < FLOOD_CAP:
            events |= selectors.EVENT_WRITE
        return events

    def send(self, loop: Loop, data: bytes) -> None:
        self.out += data
        loop.watch(self)

    def go(self, loop: Loop) -> None:
        """Start the conversation: a piece at a time, or all at once then a reset."""
        self.state = "talking"
        whole = self.role in ("reset", "reset-late")
        self.send(loop, self.message if whole else self.message[: self.bounds[0]])

    def handle(self, loop: Loop, events: int) -> None:
        try:
            if events & selectors.EVENT_WRITE:
                self.writable(loop)
            if events & selectors.EVENT_READ and self.sock is not None:
                self.readable(loop)
        except OSError as exc:
            self.fail(loop, f"{type(exc).__name__}: {exc}")

    def writable(self, loop: Loop) -> None:
        assert self.sock is not None
        if self.state == "connecting":
            err = self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                return self.fail(loop, f"connect: {os.strerror(err)}")
            self.state, self.times["connected"] = "connected", loop.now()
            self.last_progress = time.monotonic()
        elif self.role == "flood":
            self.written += self.sock.send(FLOOD_CHUNK)
            self.last_progress = time.monotonic()
        elif self.out:
            sent = self.sock.send(self.out)
            del self.out[:sent]
            self.written += sent
            if self.role == "reset" and not self.out:
                return self.abort(loop)
        loop.watch(self)

    def readable(self, loop: Loop) -> None:
        assert self.sock is not None
        data = self.sock.recv(65536)
        if not data:
            self.server_closed = True
            if self.state == "closing":
                self.state, self.times["closed"] = "closed", loop.now()
            elif self.state == "talking":
                self.error = f"the server closed the connection after {len(self.got)} bytes"
            return loop.forget(self)
        self.got += data
        if self.got != self.message[: len(self.got)]:
            return self.fail(loop, "the bytes that came back differ from the bytes sent")
        if self.role == "reset-late" and len(self.got) < len(self.message):
            return self.abort(loop)  # the server still owes most of the echo
        while self.state == "talking" and len(self.got) >= self.bounds[self.piece]:
            self.piece += 1
            if self.piece == len(self.bounds):
                self.state, self.times["served"] = "served", loop.now()
            else:
                self.send(loop, self.message[self.bounds[self.piece - 1] : self.bounds[self.piece]])

    def close_side(self) -> None:
        """Say we are done (half-close); the server should then close too."""
        if self.sock is not None and self.state == "served":
            self.sock.shutdown(socket.SHUT_WR)
            self.state = "closing"

    def abort(self, loop: Loop) -> None:
        """Reset the connection (SO_LINGER 0), data possibly still unread by the server."""
        assert self.sock is not None
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.state, self.times["reset"] = "reset", loop.now()
        loop.forget(self)

    def fail(self, loop: Loop, error: str) -> None:
        self.state, self.error = "failed", error
        loop.forget(self)

    def ready(self) -> bool:
        """A stalled client is in place: connected, echoed, or stuck flooding."""
        if self.state in ("new", "connecting"):
            return False
        if self.role == "paused":
            return self.state != "talking"
        if self.role == "flood" and self.state == "connected":
            return self.written >= FLOOD_CAP or (
                self.written > 0 and time.monotonic() - self.last_progress >= STUCK
            )
        return True

    def report(self) -> dict:
        return {
            "index": self.index,
            "role": self.role,
            "state": self.state,
            "expected": len(self.message),
            "sent": self.written,
            "received": len(self.got),
            "server_closed": self.server_closed,
            "error": self.error,
            **{f"{k}_s": round(v, 3) for k, v in self.times.items()},
        }


class Loop:
    """One selector for every client; ``run`` turns it until a condition or a deadline."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.sel = selectors.DefaultSelector()
        self.t0 = time.monotonic()
        self.stdin_closed = False

    def now(self) -> float:
        return time.monotonic() - self.t0

    def watch(self, client: Client) -> None:
        assert client.sock is not None
        events = client.wants()
        registered = client.sock in self.sel.get_map()
        if not events:
            if registered:
                self.sel.unregister(client.sock)
        elif registered:
            self.sel.modify(client.sock, events, client)
        else:
            self.sel.register(client.sock, events, client)

    def forget(self, client: Client) -> None:
        if client.sock is not None:
            if client.sock in self.sel.get_map():
                self.sel.unregister(client.sock)
            client.sock.close()
            client.sock = None

    def watch_stdin(self) -> None:
        self.sel.register(sys.stdin.fileno(), selectors.EVENT_READ, None)

    def run(self, done, deadline: float) -> bool:
        """Serve events until ``done()`` or ``deadline`` (monotonic); whether it got done."""
        while not done():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            for key, events in self.sel.select(min(left, 0.1)):
                if key.data is None:
                    self.stdin_closed = not os.read(key.fd, 4096)
                    if self.stdin_closed:
                        self.sel.unregister(key.fd)
                else:
                    key.data.handle(self, events)
        return True


# Sizes where programs break: buffers of 1024, 4096, 8192 and 65536 bytes, one less, one more.
BOUNDARIES = [1023, 1024, 1025, 4095, 4096, 4097, 8191, 8192, 8193, 65535, 65536, 65537]


def message_size(seed: int, index: int, size: int) -> int:
    """``size``, or with size 0 a seeded size: a buffer's size (give or take one) for a
    quarter of the clients, else anything from 1 byte to 20 000."""
    if size:
        return size
    rng = random.Random(f"size:{seed}:{index}")
    return rng.choice(BOUNDARIES) if rng.random() < 0.25 else rng.randint(1, 20000)


def message(seed: int, index: int, size: int) -> bytes:
    """Each client's own bytes: seeded, and different for every client."""
    return random.Random(f"{seed}:{index}").randbytes(message_size(seed, index, size))


def connect_all(loop: Loop, clients: list[Client], deadline: float) -> None:
    """Connect one after another (a burst of SYNs is not what this lab is about)."""
    for client in clients:
        if time.monotonic() >= deadline:
            client.error = "not attempted: the time ran out while earlier clients connected"
            continue
        client.start(loop)
        loop.run(lambda c=client: c.state != "connecting", deadline)
        if client.state == "connecting":
            client.fail(loop, "connect: no answer (the server accepts no more connections?)")


def converse(loop: Loop, clients: list[Client], deadline: float) -> None:
    """Connect every client, then have them all talk at once until each is done."""
    connect_all(loop, clients, deadline)
    for client in clients:
        if client.state == "connected":
            client.go(loop)
    loop.run(lambda: all(c.state not in ("talking", "connected") for c in clients), deadline)


def finish(loop: Loop, clients: list[Client]) -> None:
    """Half-close every served client, wait for the server to close its side, then drop all."""
    for client in clients:
        if client.sock is not None and client.state == "served":
            try:
                client.close_side()
            except OSError as exc:
                client.fail(loop, f"{type(exc).__name__}: {exc}")
    closing = [c for c in clients if c.state == "closing"]
    loop.run(lambda: all(c.state != "closing" for c in closing), time.monotonic() + CLOSE_TIMEOUT)
    for client in clients:
        loop.forget(client)


LATE_SIZE = 256 * 1024  # a client that resets after the first bytes of its echo sends this much


def role(index: int, args: argparse.Namespace) -> str:
    """The last R clients reset: half once their bytes are sent, half once the echo begins."""
    if index <= args.count - args.reset:
        return "normal"
    return "reset" if (args.count - index) % 2 else "reset-late"


def run_clients(args: argparse.Namespace) -> dict:
    """A stalled client first, if asked, held while the crowd talks; then the crowd closes."""
    loop = Loop(args.host, args.port)
    deadline = loop.t0 + args.timeout
    stall = Client(0, args.stall, b"paused." if args.stall == "paused" else b"") if args.stall else None
    if stall is not None:
        stall.start(loop)
        loop.run(lambda: stall.state != "connecting", deadline)
        if stall.role == "paused" and stall.state == "connected":
            stall.go(loop)  # a few bytes, then nothing more
        loop.run(stall.ready, deadline)
    rng = random.Random(args.seed)
    clients = [
        Client(
            i,
            role(i, args),
            message(args.seed, i, LATE_SIZE if role(i, args) == "reset-late" else args.size),
            args.pieces,
            rng,
        )
        for i in range(1, args.count + 1)
    ]
    started = loop.now()
    converse(loop, clients, deadline)
    finish(loop, clients)
    if stall is not None:
        loop.forget(stall)
    return {
        "started_s": round(started, 3),
        "elapsed_s": round(loop.now(), 3),
        "stall": stall.report() if stall else None,
        "clients": [c.report() for c in clients],
    }


def hold(args: argparse.Namespace) -> dict:
    """Clients that talk a little, then stay connected and silent until stdin closes."""
    loop = Loop(args.host, args.port)
    deadline = loop.t0 + args.timeout
    clients = [Client(i, "normal", message(0, i, 16)) for i in range(1, args.count + 1)]
    converse(loop, clients, deadline)
    held = sum(c.state == "served" for c in clients)
    print(json.dumps({"holding": held, "clients": [c.report() for c in clients]}), flush=True)
    loop.watch_stdin()
    loop.run(lambda: loop.stdin_closed, time.monotonic() + HOLD_MAX)
    finish(loop, clients)
    return {"held": held, "clients": [c.report() for c in clients]}


def slow(args: argparse.Namespace) -> dict:
    """One client that sends its bytes at once, then closes its sending side, but reads the
    echo slowly: a small receive window, and pauses at seeded points. The server must send
    back every byte (its send() stops short meanwhile) and then close."""
    data = message(args.seed, 0, args.size)
    rng = random.Random(args.seed)
    pauses = sorted(rng.sample(range(1, len(data)), min(args.pauses, len(data) - 1)))
    result: dict = {"error": None, "peer_closed": False}
    got, offset = bytearray(), 0
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: the window
    deadline = time.monotonic() + args.timeout
    try:
        sock.settimeout(args.timeout)
        sock.connect((args.host, args.port))
        sock.setblocking(False)
        sel = selectors.DefaultSelector()
        sel.register(sock, selectors.EVENT_READ | selectors.EVENT_WRITE)
        while time.monotonic() < deadline:
            for _key, events in sel.select(timeout=0.1):
                if events & selectors.EVENT_WRITE:
                    offset += sock.send(data[offset : offset + 65536])
                    if offset == len(data):
                        sock.shutdown(socket.SHUT_WR)  # all sent: the server owes the rest
                        sel.modify(sock, selectors.EVENT_READ)
                if events & selectors.EVENT_READ:
                    chunk = sock.recv(min(4096, (pauses[0] if pauses else 1 << 30) - len(got)))
                    if not chunk:
                        result["peer_closed"] = True
                        raise StopIteration
                    got += chunk
                    if overflowed(got, len(data)):  # the server sends without end
                        result["error"] = stopped(len(got))
                        raise StopIteration
                    if pauses and len(got) >= pauses[0]:
                        while pauses and len(got) >= pauses[0]:
                            pauses.pop(0)
                        time.sleep(args.pause)  # a reader that stops reading for a while
        else:
            result["error"] = f"timed out after {args.timeout:g} s"
    except StopIteration:
        pass
    except OSError as exc:
        result["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        sock.close()
    diff = (
        None
        if got == data
        else next(
            (i for i, (a, b) in enumerate(zip(data, got, strict=False)) if a != b), min(len(data), len(got))
        )
    )
    return {**result, "sent": len(data), "written": offset, "received": len(got), "first_difference": diff}


def links(folder: str) -> list[str]:
    """What the open file descriptors in ``folder`` point to (those that vanish, skipped)."""
    found = []
    for fd in os.listdir(folder):
        with contextlib.suppress(FileNotFoundError):
            found.append(os.readlink(f"{folder}/{fd}"))
    return found


def schedstats(pid: str) -> dict[str, tuple[int, int]]:
    """Each thread's nanoseconds on a CPU and waiting for one (kernels without schedstat: none)."""
    found = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            with open(f"/proc/{pid}/task/{tid}/schedstat") as stat:
                running, waiting = stat.read().split()[:2]
            found[tid] = (int(running), int(waiting))
    return found


def context_switches(pid: str) -> dict[str, int]:
    """Each thread's context switches so far: a thread that blocks until something happens
    makes none while nothing happens; one that wakes up to poll makes one per wake-up."""
    found = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        with (
            contextlib.suppress(FileNotFoundError, ProcessLookupError),
            open(f"/proc/{pid}/task/{tid}/status") as status,
        ):
            found[tid] = sum(
                int(line.split()[1])
                for line in status
                if line.startswith(("voluntary_ctxt", "nonvoluntary_ctxt"))
            )
    return found


def process(pid: str) -> dict | None:
    """One process of ours, from /proc; None if it is not ours or has gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            uid = next(line.split()[1] for line in status if line.startswith("Uid:"))
        if int(uid) != os.getuid():
            return None
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
        targets = links(f"/proc/{pid}/fd") if fields[0] != "Z" else []
        tasks = schedstats(pid)
        switches = context_switches(pid)
    except (FileNotFoundError, ProcessLookupError, StopIteration):
        return None
    return {
        "state": fields[0],
        "ticks": int(fields[11]) + int(fields[12]),
        "tasks": tasks,
        "switches": switches,
        "threads": int(fields[17]),
        "fds": len(targets),
        "sockets": sum(t.startswith("socket:") for t in targets),
    }


def snapshot() -> dict[str, dict]:
    me = str(os.getpid())
    found = {pid: process(pid) for pid in os.listdir("/proc") if pid.isdigit() and pid != me}
    return {pid: info for pid, info in found.items() if info is not None}


def busy(before: dict[str, dict], after: dict[str, dict]) -> dict:
    """Seconds the processes spent on a CPU, and waiting for one, between two snapshots,
    and how many times their threads were switched out (woke up and went to sleep again).

    Waiting counts too: on a loaded machine a busy loop gets little CPU, but it is always
    ready to run, while a process that waits in recv() or select() is neither.
    """
    tick = os.sysconf("SC_CLK_TCK")
    cpu = sum(p["ticks"] - before.get(pid, {"ticks": 0})["ticks"] for pid, p in after.items())
    ran = waited = 0
    for pid, proc in after.items():
        earlier = before.get(pid, {"tasks": {}})["tasks"]
        for tid, (running, waiting) in proc["tasks"].items():
            ran += running - earlier.get(tid, (0, 0))[0]
            waited += waiting - earlier.get(tid, (0, 0))[1]
    scheduled = any(p["tasks"] for p in after.values())
    switches = sum(
        n - before.get(pid, {"switches": {}})["switches"].get(tid, 0)
        for pid, p in after.items()
        for tid, n in p["switches"].items()
    )
    return {
        "cpu_s": round(ran / 1e9 if scheduled else cpu / tick, 3),
        "waiting_s": round(waited / 1e9, 3) if scheduled else None,
        "switches": switches,
    }


def usage(args: argparse.Namespace) -> dict:
    """The user's processes now; with --seconds, also their CPU time over that window."""
    before, start = snapshot(), time.monotonic()
    if args.seconds:
        time.sleep(args.seconds)  # the measuring window itself, not a wait for a condition
    after, window = snapshot(), time.monotonic() - start
    return {
        "window_s": round(window, 3),
        **(busy(before, after) if args.seconds else {}),
        "processes": len(after),
        "zombies": sum(p["state"] == "Z" for p in after.values()),
        "threads": sum(p["threads"] for p in after.values()),
        "fds": sum(p["fds"] for p in after.values()),
        "sockets": sum(p["sockets"] for p in after.values()),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="concurrent_server.py")
    sub = parser.add_subparsers(dest="command", required=True)
    many, held, use = sub.add_parser("clients"), sub.add_parser("hold"), sub.add_parser("usage")
    reader = sub.add_parser("slow")
    for p in (many, held, reader):
        p.add_argument("--host", required=True)
        p.add_argument("--port", type=int, required=True)
        p.add_argument("--timeout", type=float, default=10.0)
    for p in (many, held):
        p.add_argument("--count", type=int, required=True)
    many.add_argument("--size", type=int, default=3000)
    many.add_argument("--pieces", type=int, default=3)
    many.add_argument("--seed", type=int, default=0)
    many.add_argument("--reset", type=int, default=0)
    many.add_argument("--stall", choices=["silent", "paused", "flood"])
    reader.add_argument("--size", type=int, default=1 << 20)
    reader.add_argument("--seed", type=int, default=0)
    reader.add_argument("--pauses", type=int, default=3)
    reader.add_argument("--pause", type=float, default=0.3)
    use.add_argument("--seconds", type=float, default=0.0)
    args = parser.parse_args(argv)
    handler = {"clients": run_clients, "hold": hold, "usage": usage, "slow": slow}[args.command]
    print(json.dumps(handler(args)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
