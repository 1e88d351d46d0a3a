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

``stream`` sends the lines (each followed by a newline) in pieces of ``--chunk`` bytes,
``--gap`` seconds apart, then reads until ``--replies`` newlines came back (or, with
``--shutdown``, closes its sending side and reads until end-of-file).
``signal`` sends a signal to this user's processes whose command line is exactly ``--argv``.
``dgram``'s plan is a list of ``[client, message, how]``: each client is a socket bound to a
path of its own; ``how`` is ``""``, or ``"vanished"`` (the client's socket file is removed
before it sends, so no reply can reach it). All messages are sent, then the replies read.
"""

from __future__ import annotations

import argparse
import json
import os
import selectors
import signal
import socket
import stat
import sys
import time
from typing import Any

TYPES = {"stream": socket.SOCK_STREAM, "dgram": socket.SOCK_DGRAM}
KINDS = {stat.S_IFSOCK: "socket", stat.S_IFREG: "regular file", stat.S_IFDIR: "directory",
         stat.S_IFLNK: "symbolic link", stat.S_IFIFO: "named pipe"}


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
    return {"exists": True, "kind": KINDS.get(stat.S_IFMT(st.st_mode), "other"),
            "mode": f"{stat.S_IMODE(st.st_mode):04o}", "uid": st.st_uid, "gid": st.st_gid,
            "inode": st.st_ino}


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


def stream(args: argparse.Namespace) -> dict:
    data = b"".join(line.encode() + b"\n" for line in json.loads(args.lines))
    got = bytearray()
    result: dict = {"error": None, "peer_closed": False, "written": 0}
    start = time.monotonic()
    deadline = start + args.timeout
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(args.timeout)
            sock.connect(args.path)
            for offset in range(0, len(data), args.chunk):
                sock.sendall(data[offset:offset + args.chunk])
                result["written"] = min(offset + args.chunk, len(data))
                if args.gap:
                    time.sleep(args.gap)  # let the server read each piece on its own
            if args.shutdown:
                sock.shutdown(socket.SHUT_WR)
            while args.shutdown or got.count(b"\n") < args.replies:
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
    return {**result, "sent": len(data), "received": got.decode("latin-1"),
            "elapsed": round(time.monotonic() - start, 3)}


def dgram(args: argparse.Namespace) -> dict:
    plan = json.loads(args.plan)
    names = sorted({client for client, _, _ in plan})
    socks: dict[str, socket.socket] = {}
    clients: dict[str, dict[str, Any]] = {
        name: {"address": f"/tmp/socklab-unix-{os.getpid()}-{name}.sock", "sent": [], "replies": [],
               "truncated": 0} for name in names}
    result: dict = {"error": None, "clients": clients}
    try:
        for name in names:
            socks[name] = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            socks[name].bind(clients[name]["address"])
            socks[name].settimeout(args.timeout)
        for name, message, how in plan:
            if how == "vanished" and os.path.lexists(clients[name]["address"]):
                os.unlink(clients[name]["address"])  # still named, but no file to reply to
            socks[name].sendto(message.encode(), args.path)
            clients[name]["sent"].append(message)
        collect(socks, clients, {n for n, _, how in plan if how == "vanished"}, args.timeout)
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


def collect(socks: dict[str, socket.socket], clients: dict[str, dict[str, Any]], silent: set[str],
            timeout: float) -> None:
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
    commands = {name: sub.add_parser(name) for name in ("connect", "wait", "stale", "stream", "dgram")}
    for name, p in commands.items():
        p.add_argument("--path", required=True)
        if name in ("connect", "wait", "stale"):
            p.add_argument("--type", choices=TYPES, required=True)
        p.add_argument("--timeout", type=float, default=5.0)
    commands["stream"].add_argument("--lines", required=True)
    commands["stream"].add_argument("--chunk", type=int, default=65536)
    commands["stream"].add_argument("--gap", type=float, default=0.0)
    commands["stream"].add_argument("--replies", type=int, default=0)
    commands["stream"].add_argument("--shutdown", action="store_true")
    commands["dgram"].add_argument("--plan", required=True)
    kill = sub.add_parser("signal")
    kill.add_argument("--argv", required=True)
    kill.add_argument("--signal", default="TERM")
    args = parser.parse_args(argv)
    if args.command == "stat":
        out = {"files": {path: describe(path) for path in args.paths}}
    elif args.command == "connect":
        out = try_connect(args.path, args.type)
    elif args.command == "signal":
        out = send_signal(args)
    else:
        out = {"wait": wait, "stale": stale, "stream": stream, "dgram": dgram}[args.command](args)
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
