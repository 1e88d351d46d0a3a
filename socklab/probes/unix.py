"""Lab 9's hands inside the server container: Unix-domain sockets. Stdlib only, prints JSON.

It runs as whichever user the checker chooses (``docker exec -u``): the student user to
talk to the student's servers, other users to see the socket file's permissions at work.
It reports what it observed; the checker on the host judges.

  unix.py stat PATH...
  unix.py connect --path P --type stream|dgram
  unix.py wait    --path P --type stream|dgram [--timeout S]
  unix.py stale   --path P --type stream|dgram
  unix.py stream  --path P --lines JSON [--chunk N] [--gap S] [--replies N] [--shutdown]
  unix.py dgram   --path P --plan JSON [--timeout S]
  unix.py signal  --argv JSON --signal NAME
  unix.py plant   --path P --kind regular|fifo|symlink|directory [--content TEXT]
  unix.py hold    --path P --type stream|dgram [--timeout S]
  unix.py release --path P --type stream|dgram
  unix.py clear   PATH...
  unix.py jam     --path P [--line-size N] [--timeout S]
  unix.py linger  --path P [--timeout S]

Lines, a ``--tail``, datagrams and ``--content`` are given in base64, so that any byte
values (UTF-8 cut anywhere, or not UTF-8 at all) can be sent; what comes back is reported
as text standing for bytes one to one (latin-1). A line ``gen:SIZE:SEED`` stands for the
seeded line ``generated(SIZE, SEED)`` (printable ASCII): a line too long for the command
line that carries the probe's arguments.

``stream`` sends the lines (each followed by a newline) and then ``--tail`` (an unfinished
line), in pieces of ``--chunk`` bytes or cut at the byte offsets ``--cuts``, with the pauses
``--gaps`` (or ``--gap``) between the pieces, reading the answers meanwhile; then reads until
``--replies`` newlines came back (or, with ``--shutdown``, closes its sending side and reads
until end-of-file).
``signal`` sends a signal to this user's processes whose command line is exactly ``--argv``.
``dgram``'s plan is a list of ``[client, message, how]``: each client is a socket bound to a
path of its own; ``how`` is ``""``, ``"vanished"`` (the client's socket file is removed
before it sends, so no reply can reach it: FileNotFoundError), ``"stale"`` (its file is
replaced by a stale one before it sends: ConnectionRefusedError) or ``"unbound"`` (the client
binds no path: no address to reply to). All messages are sent, then the replies read.
``plant`` leaves something that is not a socket at a path (a regular file holding
``--content``, a named pipe, a symbolic link to a stale socket file, a directory); ``stat``
reports a regular file's SHA-256 and a link's target, to tell it is left as it was.
``jam`` sends lines without reading the answers until both directions are full (the
server blocked sending its answers to it), then closes: the server's send fails.
``hold`` binds a socket at a path (listening, for a stream) and keeps it live until a
``release`` reaches it, or ``--timeout``; then removes its file.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import itertools
import json
import os
import random
import select
import selectors
import shutil
import signal
import socket
import stat
import sys
import time
from typing import Any

try:  # in a lab container the probes sit side by side (/socklab)
    from bounded import overflowed, stopped
except ImportError:  # imported from the socklab package (the unit tests)
    from socklab.probes.bounded import overflowed, stopped

TYPES = {"stream": socket.SOCK_STREAM, "dgram": socket.SOCK_DGRAM}
KINDS = {
    stat.S_IFSOCK: "socket",
    stat.S_IFREG: "regular file",
    stat.S_IFDIR: "directory",
    stat.S_IFLNK: "symbolic link",
    stat.S_IFIFO: "named pipe",
}


def error(exc: OSError) -> str:
    name = type(exc).__name__
    return f"{name} ({os.strerror(exc.errno)})" if exc.errno else f"{name}: {exc}"


def describe(path: str) -> dict:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return {"exists": False}
    except OSError as exc:
        return {"exists": None, "error": error(exc)}
    out = {
        "exists": True,
        "kind": KINDS.get(stat.S_IFMT(st.st_mode), "other"),
        "mode": f"{stat.S_IMODE(st.st_mode):04o}",
        "uid": st.st_uid,
        "gid": st.st_gid,
        "inode": st.st_ino,
        "size": st.st_size,
    }
    try:
        if stat.S_ISREG(st.st_mode):
            with open(path, "rb") as file:
                out["sha256"] = hashlib.sha256(file.read()).hexdigest()
        elif stat.S_ISLNK(st.st_mode):
            out["target"] = os.readlink(path)
    except OSError as exc:
        out["error"] = error(exc)
    return out


def try_connect(path: str, kind: str) -> dict:
    with socket.socket(socket.AF_UNIX, TYPES[kind]) as sock:
        sock.settimeout(5)
        try:
            sock.connect(path)
        except OSError as exc:
            return {"connected": False, "error": error(exc)}
    return {"connected": True, "error": None}


def wait(args: argparse.Namespace) -> dict:
    """Poll until a client can connect to the path (the server is ready), or time out."""
    start = time.monotonic()
    while True:
        seen = try_connect(args.path, args.type)
        if seen["connected"] or time.monotonic() - start > args.timeout:
            return {**seen, "file": describe(args.path), "elapsed": round(time.monotonic() - start, 3)}
        time.sleep(0.02)


def stale(args: argparse.Namespace) -> dict:
    """Leave what a crashed server leaves: a socket file that nobody listens on."""
    if os.path.lexists(args.path):
        os.unlink(args.path)
    with socket.socket(socket.AF_UNIX, TYPES[args.type]) as sock:
        sock.bind(args.path)  # closed without unlink: the file stays, the socket is gone
    return {"file": describe(args.path), **try_connect(args.path, args.type)}


def generated(size: int, seed: int) -> bytes:
    """A seeded line of printable ASCII (cases.py in lab 9's checker makes the same)."""
    return bytes(0x21 + b % 94 for b in random.Random(seed).randbytes(size))


def line_bytes(line: str) -> bytes:
    kind, _, rest = line.partition(":")
    if kind == "gen":
        size, _, seed = rest.partition(":")
        return generated(int(size), int(seed))
    return base64.b64decode(line)


def jam(args: argparse.Namespace) -> dict:
    """Send lines, never reading the answers, until nothing moves; then close."""
    line = b"j" * (args.line_size - 1) + b"\n"
    sent, stuck_since, failed = 0, None, None
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(args.timeout)
        try:
            sock.connect(args.path)
        except OSError as exc:
            return {"sent": 0, "jammed": False, "error": f"connect(): {error(exc)}"}
        sock.setblocking(False)
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline and sent < 64 << 20:
            try:
                sent += sock.send(line * 16)
                stuck_since = None
            except BlockingIOError:
                stuck_since = stuck_since or time.monotonic()
                if time.monotonic() - stuck_since > 0.5:  # the server no longer reads: it is
                    break  # blocked sending answers nobody reads
                time.sleep(0.01)
            except OSError as exc:  # the server closed or reset the connection: its doing
                failed = f"send(): {error(exc)}"
                break
    return {"sent": sent, "jammed": stuck_since is not None, "error": failed}


def linger(args: argparse.Namespace) -> dict:
    """A stream client that stays: connects, sends half a line, and waits until the server
    closes (or time runs out), as a client still connected when the server is stopped."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(5)
        try:
            sock.connect(args.path)
            sock.sendall(b"a line not yet fin")
        except OSError as exc:  # the server's doing (gone, or closing on us): the check goes on
            print(json.dumps({"listening": args.path}), flush=True)
            return {"closed": True, "error": error(exc)}
        print(json.dumps({"listening": args.path}), flush=True)
        sock.settimeout(args.timeout)
        try:
            while sock.recv(4096):
                pass
            closed = True
        except TimeoutError:
            closed = False
        except OSError:
            closed = True
    return {"closed": closed}


def pieces(data: bytes, args: argparse.Namespace) -> list[bytes]:
    if args.cuts:
        edges = [0, *sorted({c for c in json.loads(args.cuts) if 0 < c < len(data)}), len(data)]
        return [data[a:b] for a, b in itertools.pairwise(edges)]
    return [data[i : i + args.chunk] for i in range(0, len(data), args.chunk)]


def stream(args: argparse.Namespace) -> dict:
    data = b"".join(line_bytes(line) + b"\n" for line in json.loads(args.lines))
    data += base64.b64decode(args.tail)
    gaps = json.loads(args.gaps) if args.gaps else [args.gap]
    got = bytearray()
    result: dict = {"error": None, "peer_closed": False, "written": 0}
    start = time.monotonic()
    deadline = start + args.timeout

    def take(sock: socket.socket, wait: float) -> None:
        """Read what the server sent within ``wait`` seconds (it must not block on us)."""
        until = time.monotonic() + wait
        while not result["peer_closed"] and not overflowed(got, len(data)):
            ready = select.select([sock], [], [], max(0.0, until - time.monotonic()))[0]
            if not ready:
                return
            chunk = sock.recv(65536)
            result["peer_closed"] = not chunk
            got.extend(chunk)

    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(args.timeout)
            sock.connect(args.path)
            for i, piece in enumerate(pieces(data, args)):
                if i and (gap := gaps[(i - 1) % len(gaps)]):
                    take(sock, gap)  # let the server read each piece on its own
                sock.sendall(piece)
                result["written"] += len(piece)
                take(sock, 0)
                deadline = max(deadline, time.monotonic() + args.timeout)
            if args.shutdown:
                sock.shutdown(socket.SHUT_WR)
            while (
                not result["peer_closed"]
                and not overflowed(got, len(data))
                and (args.shutdown or got.count(b"\n") < args.replies)
            ):
                sock.settimeout(max(0.001, deadline - time.monotonic()))
                chunk = sock.recv(65536)
                if not chunk:
                    result["peer_closed"] = True
                    break
                got += chunk
    except TimeoutError:
        result["error"] = f"timed out after {args.timeout:g} s"
    except OSError as exc:
        result["error"] = error(exc)
    if overflowed(got, len(data)):  # the server sends without end: enough seen
        result["error"] = stopped(len(got))
    return {
        **result,
        "sent": len(data),
        "received": got.decode("latin-1"),
        "elapsed": round(time.monotonic() - start, 3),
    }


def dgram(args: argparse.Namespace) -> dict:
    plan = json.loads(args.plan)
    names = sorted({client for client, _, _ in plan})
    socks: dict[str, socket.socket] = {}
    clients: dict[str, dict[str, Any]] = {
        name: {
            "address": f"/tmp/socklab-unix-{os.getpid()}-{name}.sock",
            "sent": [],
            "replies": [],
            "truncated": 0,
        }
        for name in names
    }
    result: dict = {"error": None, "clients": clients}
    try:
        unbound = {n for n, _, how in plan if how == "unbound"}
        for name in names:
            socks[name] = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            if name not in unbound:
                socks[name].bind(clients[name]["address"])
            socks[name].settimeout(args.timeout)
        for name, message, how in plan:
            address = clients[name]["address"]
            if how in ("vanished", "stale") and os.path.lexists(address):
                os.unlink(address)  # still named, but no file to reply to
            if how == "stale":  # a socket file again, but nobody behind it: refused
                with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as other:
                    other.bind(address)
            socks[name].sendto(base64.b64decode(message), args.path)
            clients[name]["sent"].append(len(base64.b64decode(message)))
        silent = {n for n, _, how in plan if how in ("vanished", "stale", "unbound")}
        collect(socks, clients, silent, args.timeout)
    except TimeoutError:
        result["error"] = f"sending timed out after {args.timeout:g} s (the server is not reading)"
    except OSError as exc:
        result["error"] = f"a datagram to {args.path} was refused: {error(exc)}"
    finally:
        for name, sock in socks.items():
            sock.close()
            if os.path.lexists(clients[name]["address"]):
                os.unlink(clients[name]["address"])
    return result


def collect(
    socks: dict[str, socket.socket], clients: dict[str, dict[str, Any]], silent: set[str], timeout: float
) -> None:
    """Read replies until each client has one per message it sent, or time runs out."""
    sel = selectors.DefaultSelector()
    waiting = {n for n in socks if n not in silent and clients[n]["sent"]}
    for name in waiting:
        sel.register(socks[name], selectors.EVENT_READ, name)
    deadline = time.monotonic() + timeout
    while waiting and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=max(0.0, deadline - time.monotonic())):
            name = key.data
            data, _, flags, _ = socks[name].recvmsg(1 << 17)
            clients[name]["replies"].append(data.decode("latin-1"))
            clients[name]["truncated"] += bool(flags & socket.MSG_TRUNC)
            if len(clients[name]["replies"]) >= len(clients[name]["sent"]) and name in waiting:
                waiting.discard(name)
                sel.unregister(socks[name])


def plant(args: argparse.Namespace) -> dict:
    """Leave something that is not a socket at the path (what was there is removed first)."""
    if os.path.isdir(args.path) and not os.path.islink(args.path):
        os.rmdir(args.path)
    elif os.path.lexists(args.path):
        os.unlink(args.path)
    if args.kind == "regular":
        with open(args.path, "wb") as file:
            file.write(base64.b64decode(args.content))
    elif args.kind == "fifo":
        os.mkfifo(args.path, 0o600)
    elif args.kind == "symlink":
        target = f"{args.path}.target"
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.bind(target)  # closed, the file stays: a stale socket behind the link
        os.symlink(target, args.path)
    else:
        os.mkdir(args.path, 0o700)
    return {"file": describe(args.path)}


def hold(args: argparse.Namespace) -> dict:
    """Keep a live socket at the path until a release reaches it (or time runs out)."""
    released = False
    with socket.socket(socket.AF_UNIX, TYPES[args.type]) as sock:
        sock.bind(args.path)
        if args.type == "stream":
            sock.listen()
        print(json.dumps({"listening": args.path, "file": describe(args.path)}), flush=True)
        deadline = time.monotonic() + args.timeout
        while not released and (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            try:
                if args.type == "stream":
                    conn, _ = sock.accept()
                    with conn:
                        conn.settimeout(2)
                        released = conn.recv(64) == b"release"
                else:
                    released = sock.recv(64) == b"release"
            except (TimeoutError, OSError):
                continue
    if os.path.lexists(args.path):
        os.unlink(args.path)
    return {"released": released}


def clear(paths: list[str]) -> dict:
    """Remove what the checker left at the paths (a planted link's target too)."""
    for path in paths:
        for each in (path, f"{path}.target"):
            if os.path.isdir(each) and not os.path.islink(each):
                shutil.rmtree(each)
            elif os.path.lexists(each):
                os.unlink(each)
    return {"files": {path: describe(path) for path in paths}}


def release(args: argparse.Namespace) -> dict:
    with socket.socket(socket.AF_UNIX, TYPES[args.type]) as sock:
        sock.settimeout(5)
        try:
            sock.connect(args.path)
            sock.send(b"release")
        except OSError as exc:
            return {"sent": False, "error": error(exc)}
    return {"sent": True, "error": None}


def send_signal(args: argparse.Namespace) -> dict:
    """Signal the processes of this user running exactly ``--argv``: that program, nothing else."""
    wanted = "\0".join(json.loads(args.argv)) + "\0"
    signalled = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry.name}/cmdline") as cmdline:
                if cmdline.read() != wanted or entry.stat().st_uid != os.getuid():
                    continue
            os.kill(int(entry.name), signal.Signals[f"SIG{args.signal}"])
        except (FileNotFoundError, ProcessLookupError):  # it ended meanwhile
            continue
        signalled.append(int(entry.name))
    return {"signalled": signalled}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="unix.py")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("stat").add_argument("paths", nargs="+")
    sub.add_parser("clear").add_argument("paths", nargs="+")
    commands = {
        name: sub.add_parser(name)
        for name in (
            "connect",
            "wait",
            "stale",
            "stream",
            "dgram",
            "plant",
            "hold",
            "release",
            "jam",
            "linger",
        )
    }
    for name, p in commands.items():
        p.add_argument("--path", required=True)
        if name in ("connect", "wait", "stale", "hold", "release"):
            p.add_argument("--type", choices=TYPES, required=True)
        p.add_argument("--timeout", type=float, default=5.0)
    commands["plant"].add_argument(
        "--kind", choices=("regular", "fifo", "symlink", "directory"), required=True
    )
    commands["plant"].add_argument("--content", default="")
    commands["jam"].add_argument("--line-size", type=int, default=1000)
    commands["stream"].add_argument("--lines", required=True)
    commands["stream"].add_argument("--chunk", type=int, default=65536)
    commands["stream"].add_argument("--gap", type=float, default=0.0)
    commands["stream"].add_argument("--replies", type=int, default=0)
    commands["stream"].add_argument("--shutdown", action="store_true")
    commands["stream"].add_argument("--tail", default="")
    commands["stream"].add_argument("--cuts", default="")
    commands["stream"].add_argument("--gaps", default="")
    commands["dgram"].add_argument("--plan", required=True)
    kill = sub.add_parser("signal")
    kill.add_argument("--argv", required=True)
    kill.add_argument("--signal", default="TERM")
    args = parser.parse_args(argv)
    if args.command == "stat":
        out = {"files": {path: describe(path) for path in args.paths}}
    elif args.command == "clear":
        out = clear(args.paths)
    elif args.command == "connect":
        out = try_connect(args.path, args.type)
    elif args.command == "signal":
        out = send_signal(args)
    else:
        out = {
            "wait": wait,
            "stale": stale,
            "stream": stream,
            "dgram": dgram,
            "plant": plant,
            "hold": hold,
            "release": release,
            "jam": jam,
            "linger": linger,
        }[args.command](args)
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
