"""Lab 6's probe: seeded files and the checker's own client for the file-transfer protocol.

Runs inside the lab containers (stdlib only) and prints one JSON object per line:

  file_transfer.py make  --file PATH:SIZE:SEED...         write SIZE seeded bytes to each PATH
  file_transfer.py hash  --path P                        size and SHA-256 of P (or missing)
  file_transfer.py get   --host H --port P --name NAME [--stall-at N...] [--reset-after N]
  file_transfer.py put   --host H --port P --name NAME --size N --seed S [--reset-after N]
                         [--close-after N]
  file_transfer.py lines --host H --port P --line TEXT...
  file_transfer.py session --host H --port P --script JSON   one session, step by step
  file_transfer.py listing --root DIR                     what LIST must answer for DIR

``get`` and ``put`` hash the bytes as they go and never hold a whole file; each ends
its session with QUIT. ``--stall-at`` stops reading the body at that byte count, prints
``{"stalled": ...}`` and reads on when a line arrives on stdin. ``--reset-after`` resets
the connection after that many body bytes; ``--close-after`` closes it cleanly. ``lines``
sends each command line, reads each reply's status line (and a ``200`` reply's body) and reports them.

A ``session`` script is a list of steps, each sent on the one connection:
``{"send": TEXT, "cuts": [N...], "pause": S, "replies": K}`` sends TEXT's UTF-8 bytes cut
at those byte offsets, ``pause`` seconds between the pieces (or a list: one pause per
gap), then reads K replies;
``{"data": [SIZE, SEED], "cuts": ..., "pause": ..., "replies": K}`` sends SIZE seeded
bytes (only if the last reply began with ``150``, unless the step also has ``send``: then
that line and the data go together, without waiting; with ``after``, that text follows
the data in the same send). A reply is its status line and, for
``200 OK N``, the N bytes that follow (hashed; their text too if short).
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import random
import socket
import struct
import sys
import time

try:  # in a lab container the probes sit side by side (/socklab)
    from bounded import overflowed, stopped
except ImportError:  # imported from the socklab package (the unit tests)
    from socklab.probes.bounded import overflowed, stopped

CHUNK = 64 * 1024
IDLE = 10.0  # seconds without a byte from the server before the probe stops waiting


def seeded(size: int, seed: int):
    """The same bytes for the same size and seed, a chunk at a time."""
    rng = random.Random(seed)
    left = size
    while left:
        n = min(CHUNK, left)
        yield rng.randbytes(n)
        left -= n


def make(args: argparse.Namespace) -> dict:
    made = {}
    for path in args.dir:
        os.makedirs(path, exist_ok=True)
    for spec in args.file:
        path, size, seed = spec.rsplit(":", 2)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        digest = hashlib.sha256()
        with open(path, "wb") as f:
            for chunk in seeded(int(size), int(seed)):
                f.write(chunk)
                digest.update(chunk)
        made[path] = {"size": int(size), "sha256": digest.hexdigest()}
    return made


def hash_file(args: argparse.Namespace) -> dict:
    digest, size = hashlib.sha256(), 0
    try:
        with open(args.path, "rb") as f:
            while chunk := f.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
    except FileNotFoundError:
        return {"exists": False}
    return {"exists": True, "size": size, "sha256": digest.hexdigest()}


class Conn:
    def __init__(self, host: str, port: int, rcvbuf: int = 0) -> None:
        self.sock = socket.socket()
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(IDLE)
        self.sock.connect((host, port))
        self.buf = b""

    def line(self, limit: int = 4096) -> str | None:
        """One reply line without its newline; None if the server closed first."""
        while b"\n" not in self.buf:
            if len(self.buf) > limit:
                raise ValueError(
                    f"the checker stopped reading: no newline in the first {limit} bytes: {self.buf[:80]!r}"
                )
            chunk = self.sock.recv(4096)
            if not chunk:
                return None
            self.buf += chunk
        text, _, self.buf = self.buf.partition(b"\n")
        return text.decode("utf-8", "replace")

    def take(self, limit: int) -> bytes:
        if self.buf:
            data, self.buf = self.buf[:limit], self.buf[limit:]
            return data
        return self.sock.recv(min(limit, CHUNK))

    def reset(self) -> None:
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()

    def quit(self) -> str | None:
        try:
            self.sock.sendall(b"QUIT\n")
            return self.line()
        except OSError as exc:
            return f"({type(exc).__name__}: {exc})"
        finally:
            self.sock.close()


def size_of(status: str | None) -> int | None:
    parts = (status or "").split()
    if len(parts) == 3 and parts[:2] == ["200", "OK"] and parts[2].isdigit():
        return int(parts[2])
    return None


def get(args: argparse.Namespace) -> dict:
    result: dict = {"status": None, "received": 0, "sha256": None, "error": None, "quit": None}
    start = time.monotonic()
    digest = hashlib.sha256()
    try:
        conn = Conn(args.host, args.port, rcvbuf=4096 if args.stall_at else 0)
        result["port"] = conn.sock.getsockname()[1]
        conn.sock.sendall(f"GET {args.name}\n".encode())
        result["status"] = conn.line()
        size = size_of(result["status"])
        if size is None:
            result["quit"] = conn.quit()
            return result
        stalls = sorted(args.stall_at)
        while result["received"] < size:
            if args.reset_after is not None and result["received"] >= args.reset_after:
                conn.reset()
                result["reset"] = True
                return result
            if stalls and result["received"] >= stalls[0]:
                stalls.pop(0)
                print(json.dumps({"stalled": result["received"], "port": result["port"]}), flush=True)
                sys.stdin.readline()
            upto = min([size, *stalls, *([args.reset_after] if args.reset_after else [])])
            chunk = conn.take(max(upto - result["received"], 1))
            if not chunk:
                result["error"] = "the server closed the connection before the whole file"
                break
            digest.update(chunk)
            result["received"] += len(chunk)
        result["sha256"] = digest.hexdigest()
        result["seconds"] = round(time.monotonic() - start, 2)
        if result["error"] is None:
            result["quit"] = conn.quit()
    except TimeoutError:
        result["error"] = f"nothing more from the server for {IDLE:g} s"
    except (OSError, ValueError) as exc:
        result["error"] = f"{type(exc).__name__}: {exc}"
    result["sha256"] = result["sha256"] or digest.hexdigest()
    return result


def put(args: argparse.Namespace) -> dict:
    result: dict = {"status": None, "final": None, "sent": 0, "sha256": None, "error": None, "quit": None}
    start = time.monotonic()
    digest = hashlib.sha256()
    try:
        conn = Conn(args.host, args.port)
        conn.sock.sendall(f"PUT {args.name} {args.size}\n".encode())
        result["status"] = conn.line()
        if (result["status"] or "").split()[:1] != ["150"]:
            result["quit"] = conn.quit()
            return result
        for chunk in seeded(args.size, args.seed):
            if args.reset_after is not None and result["sent"] + len(chunk) > args.reset_after:
                conn.sock.sendall(chunk[: args.reset_after - result["sent"]])
                conn.reset()
                result["reset"] = True
                return result
            if args.close_after is not None and result["sent"] + len(chunk) > args.close_after:
                conn.sock.sendall(chunk[: args.close_after - result["sent"]])
                conn.sock.close()  # a clean close (FIN), in the middle of the upload
                result["closed_early"] = True
                return result
            conn.sock.sendall(chunk)
            digest.update(chunk)
            result["sent"] += len(chunk)
        result["sha256"] = digest.hexdigest()
        result["final"] = conn.line()
        result["seconds"] = round(time.monotonic() - start, 2)
        result["quit"] = conn.quit()
    except TimeoutError:
        result["error"] = f"nothing from the server for {IDLE:g} s"
    except (OSError, ValueError) as exc:
        result["error"] = f"{type(exc).__name__}: {exc}"
    return result


def lines(args: argparse.Namespace) -> dict:
    replies: list = []
    result: dict = {"replies": replies, "error": None, "closed": False}
    try:
        conn = Conn(args.host, args.port)
        for text in args.line:
            conn.sock.sendall(text.encode() + b"\n")
            status = conn.line()
            if status is None:
                result["closed"] = True
                break
            reply = {"status": status}
            size = size_of(status)
            if size is not None:
                body = bytearray()
                while len(body) < size and not overflowed(body):
                    chunk = conn.take(size - len(body))
                    if not chunk:
                        break
                    body += chunk
                if overflowed(body):  # a size without end: the rest of the session is lost
                    replies.append({**reply, "body": body[:200].decode("utf-8", "replace")})
                    result["error"] = stopped(len(body))
                    break
                reply["body"] = body.decode("utf-8", "replace")
            replies.append(reply)
        if not result["closed"]:
            conn.sock.settimeout(2.0)
            result["closed"] = conn.sock.recv(1) == b""
    except TimeoutError:
        result["error"] = "no reply" if not result["closed"] else None
    except (OSError, ValueError) as exc:
        result["error"] = f"{type(exc).__name__}: {exc}"
    return result


def listing(args: argparse.Namespace) -> dict:
    """The body LIST must answer: regular files of ``root``, not hidden, sorted by bytes."""
    names = sorted(
        os.fsencode(e.name) for e in os.scandir(args.root) if not e.name.startswith(".") and e.is_file()
    )
    body = b"".join(name + b"\n" for name in names)
    return {
        "size": len(body),
        "sha256": hashlib.sha256(body).hexdigest(),
        "text": body.decode("utf-8", "replace"),
    }


def pieces(data: bytes, cuts: list[int]) -> list[bytes]:
    edges = [0, *sorted(c for c in set(cuts) if 0 < c < len(data)), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(edges)]


def send_pieces(conn: Conn, data: bytes, cuts: list[int], pause: float | list[float]) -> None:
    """The pieces, ``pause`` seconds apart (or, a list, each gap its own pause)."""
    for i, piece in enumerate(pieces(data, cuts)):
        wait = pause if not isinstance(pause, list) else pause[i - 1] if i <= len(pause) else 0
        if i and wait:
            time.sleep(wait)
        conn.sock.sendall(piece)


def reply(conn: Conn) -> dict | None:
    """One reply: its status line and, for '200 OK N', the N bytes after it."""
    status = conn.line()
    if status is None:
        return None
    seen: dict = {"status": status}
    size = size_of(status)
    if size is not None:
        digest, got, text = hashlib.sha256(), 0, b""
        while got < size:
            chunk = conn.take(size - got)
            if not chunk:
                seen["error"] = "the server closed the connection before the whole body"
                break
            digest.update(chunk)
            got += len(chunk)
            if len(text) < 65536:
                text += chunk
        seen.update(size=got, sha256=digest.hexdigest(), text=text.decode("utf-8", "replace"))
    return seen


def session(args: argparse.Namespace) -> dict:
    replies: list = []
    result: dict = {"replies": replies, "error": None, "closed": False, "sent": []}
    try:
        conn = Conn(args.host, args.port)
        for step in json.loads(args.script):
            if "data" in step:
                if "send" not in step and not (replies and replies[-1]["status"].startswith("150")):
                    continue
                size, seed = step["data"]
                data = b"".join(seeded(size, seed))
                result["sent"].append({"size": size, "sha256": hashlib.sha256(data).hexdigest()})
                data = step.get("send", "").encode() + data + step.get("after", "").encode()
            else:
                data = step["send"].encode()
            send_pieces(conn, data, step.get("cuts", []), step.get("pause", 0.0))
            for _ in range(step.get("replies", 1)):
                seen = reply(conn)
                if seen is None:
                    result["closed"] = True
                    return result
                replies.append(seen)
        conn.sock.settimeout(2.0)
        result["closed"] = conn.sock.recv(1) == b""
    except TimeoutError:
        result["error"] = f"nothing more from the server for {IDLE:g} s"
    except (OSError, ValueError) as exc:
        result["error"] = f"{type(exc).__name__}: {exc}"
    return result


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="file_transfer.py")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("make")
    p.add_argument("--file", action="append", default=[])
    p.add_argument("--dir", action="append", default=[])
    sub.add_parser("listing").add_argument("--root", required=True)
    p = sub.add_parser("hash")
    p.add_argument("--path", required=True)
    for name in ("get", "put", "lines", "session"):
        p = sub.add_parser(name)
        p.add_argument("--host", required=True)
        p.add_argument("--port", type=int, required=True)
    p = sub.choices["get"]
    p.add_argument("--name", required=True)
    p.add_argument("--stall-at", type=int, action="append", default=[])
    p.add_argument("--reset-after", type=int)
    p = sub.choices["put"]
    p.add_argument("--name", required=True)
    p.add_argument("--size", type=int, required=True)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--reset-after", type=int)
    p.add_argument("--close-after", type=int)
    sub.choices["lines"].add_argument("--line", action="append", required=True)
    sub.choices["session"].add_argument("--script", required=True)
    args = parser.parse_args(argv)
    run = {
        "make": make,
        "hash": hash_file,
        "get": get,
        "put": put,
        "lines": lines,
        "session": session,
        "listing": listing,
    }[args.cmd]
    print(json.dumps(run(args)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
