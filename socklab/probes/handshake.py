"""Lab 3's probe: the checker's own client and server for a half-closed exchange.

Stdlib only; runs inside a lab container (mounted at /socklab/handshake.py) as root
without capabilities and prints one JSON object: what it observed, never a verdict.

  handshake.py request --host H --port P --plan JSON [--timeout S]
      one connection per item of the plan, one after another: connect, send the payload
      cut at the item's byte offsets with its pauses between the pieces (noting anything
      that comes back early), then end as the item says:
        "fin"       shut down the sending side, read the reply until EOF
        "rst"       reset the connection (SO_LINGER 0) without a FIN
        "fin-rst"   shut down the sending side, then reset at once, reading nothing
      With "busy": true, another connection keeps the server busy (one byte sent, no FIN)
      while the item's client comes and goes, and ends properly after it.
  handshake.py serve --port P --reply TEXT [--cuts JSON] [--gaps JSON] [--hold S]
                     [--timeout S] [--accept-timeout S]
      print {"listening": P}, accept one client, read its request until EOF, then send the
      reply's UTF-8 bytes cut at the byte offsets ``cuts`` with the pauses ``gaps`` between
      the pieces, wait ``hold`` seconds, and close

A plan item is {"payload": SPEC, "cuts": [offsets], "gaps": [seconds], "end": END}; a
payload SPEC is ``empty``, ``text:WORDS``, ``random:SIZE:SEED`` (seeded bytes) or
``utf8:SIZE:SEED`` (seeded UTF-8 text of exactly SIZE bytes: 1- to 4-byte characters,
newlines, spaces). Every request and reply is reported with its size and SHA-256, and
its first bytes (latin-1).
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import hashlib
import itertools
import json
import random
import select
import socket
import struct
import sys
import time

try:  # in a lab container the probes sit side by side (/socklab)
    from bounded import overflowed, stopped
except ImportError:  # imported from the socklab package (the unit tests)
    from socklab.probes.bounded import overflowed, stopped

KEEP = 4096  # bytes of a reply or request kept in the report
CHARACTERS = "abcdefghij klmnop\nqrstuvwxyz0123456789éüßñçøλжщ中文字節符號🙂🚀𝄞"


def utf8_text(size: int, seed: int) -> bytes:
    """Seeded UTF-8 text of exactly ``size`` bytes, mixing characters of 1 to 4 bytes."""
    rng = random.Random(seed)
    out = bytearray()
    while True:
        char = rng.choice(CHARACTERS).encode()
        if len(out) + len(char) > size:
            break
        out += char
    return bytes(out) + b"a" * (size - len(out))


def payload(spec: str) -> bytes:
    kind, _, rest = spec.partition(":")
    if kind == "empty":
        return b""
    if kind == "text":
        return rest.encode()
    size, _, seed = rest.partition(":")
    if kind == "random":
        return random.Random(int(seed or 0)).randbytes(int(size))
    if kind == "utf8":
        return utf8_text(int(size), int(seed or 0))
    raise SystemExit(f"unknown payload {spec!r}")


def cut(data: bytes, cuts: list[int]) -> list[bytes]:
    """``data`` cut at the byte offsets ``cuts`` (those outside it ignored); none when empty."""
    edges = [0, *sorted({c for c in cuts if 0 < c < len(data)}), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(edges) if b > a]


def digest(data: bytes) -> dict:
    return {
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "head": data[:KEEP].decode("latin-1"),
    }


class Flooded(Exception):
    """The peer sent more than a probe keeps (bounded.KEEP): the probe stopped reading."""


def error_name(exc: OSError) -> str:
    return errno.errorcode.get(exc.errno or 0, type(exc).__name__)


def read_until_eof(sock: socket.socket, deadline: float) -> tuple[bytes, bool, str | None]:
    """(bytes read, EOF seen, error) until EOF, an error or ``deadline``."""
    got = bytearray()
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        except OSError as exc:
            return bytes(got), False, error_name(exc)
        if not chunk:
            return bytes(got), True, None
        got += chunk
        if overflowed(got):  # a request is 200 kB at most: a peer that sends without end
            return bytes(got), False, stopped(len(got))
    return bytes(got), False, None


def wait_readable(sock: socket.socket, seconds: float) -> tuple[bytes, bool, str | None]:
    """What arrives within ``seconds`` (a pause between two pieces): bytes, EOF, error."""
    got = bytearray()
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        if not select.select([sock], [], [], left)[0]:
            break
        try:
            chunk = sock.recv(65536)
        except OSError as exc:
            return bytes(got), False, error_name(exc)
        if not chunk:
            return bytes(got), True, None
        got += chunk
        if overflowed(got):  # a request is 200 kB at most: a peer that sends without end
            return bytes(got), False, stopped(len(got))
    return bytes(got), False, None


def reset(sock: socket.socket) -> None:
    """Close with a RST instead of a FIN: what a crashed or killed client leaves."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def one_request(host: str, port: int, item: dict, timeout: float) -> dict:
    data = payload(item["payload"])
    out: dict = {
        "request": digest(data),
        "sent": 0,
        "early": "",
        "early_eof": False,
        "early_at": None,
        "error": None,
        "reply": digest(b""),
        "eof": False,
        "wait": None,
    }
    blocker = occupy(host, port, timeout) if item.get("busy") else None
    try:
        return exchange(host, port, item, timeout, data, out)
    finally:
        if blocker is not None:
            release(blocker, timeout)


def occupy(host: str, port: int, timeout: float) -> socket.socket | None:
    """A connection that keeps a one-client-at-a-time server busy reading (one byte, no
    FIN yet): the next client's segments, its reset too, wait in the server's kernel
    until the server accepts it."""
    try:
        blocker = socket.create_connection((host, port), timeout=timeout)
        blocker.sendall(b"x")
    except OSError:
        return None
    time.sleep(0.2)  # the server has accepted it and waits in recv()
    return blocker


def release(blocker: socket.socket, timeout: float) -> None:
    """End the busy connection properly: its FIN, then its reply read to the server's FIN."""
    time.sleep(0.2)  # the other client's reset has reached the server's kernel
    with contextlib.suppress(OSError):
        blocker.shutdown(socket.SHUT_WR)
        read_until_eof(blocker, time.monotonic() + timeout)
    blocker.close()


def exchange(host: str, port: int, item: dict, timeout: float, data: bytes, out: dict) -> dict:
    gaps = list(item.get("gaps", []))
    end = item.get("end", "fin")
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except OSError as exc:
        out["error"] = f"connect: {error_name(exc)}"
        return out
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    early = bytearray()
    try:
        for i, piece in enumerate(cut(data, item.get("cuts", []))):
            if i and (gap := gaps[(i - 1) % len(gaps)] if gaps else 0):
                got, eof, err = wait_readable(sock, gap)
                if (got or eof or err) and out["early_at"] is None:
                    out["early_at"] = out["sent"]  # bytes of the request sent when it came
                early += got
                out["early_eof"] = out["early_eof"] or eof
                if err and overflowed(early):
                    raise Flooded(err)
                if err:
                    raise ConnectionResetError(err)
            sock.sendall(piece)
            out["sent"] += len(piece)
        if end == "rst":
            time.sleep(0.2)  # the server is waiting in recv() when the reset comes
            reset(sock)
            return out
        sock.shutdown(socket.SHUT_WR)
        if end == "fin-rst":
            reset(sock)
            return out
    except Flooded as exc:
        out["error"] = f"while sending: {exc}"
    except OSError as exc:
        out["error"] = f"while sending: {error_name(exc)}"
    out["early"] = early[:KEEP].decode("latin-1")
    shut = time.monotonic()
    reply, out["eof"], err = read_until_eof(sock, shut + timeout)
    out["error"] = out["error"] or (f"while reading the reply: {err}" if err else None)
    if out["eof"]:
        out["wait"] = round(time.monotonic() - shut, 4)
    out["reply"] = digest(reply)
    sock.close()
    return out


def request(args: argparse.Namespace) -> dict:
    return {
        "results": [one_request(args.host, args.port, item, args.timeout) for item in json.loads(args.plan)]
    }


def serve(args: argparse.Namespace) -> dict:
    try:
        listener = socket.create_server(("", args.port))
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        return {"error": f"port {args.port} is in use", "in_use": args.port}
    print(json.dumps({"listening": args.port}), flush=True)
    listener.settimeout(args.accept_timeout or args.timeout)
    out: dict = {"error": None, "connected": False, "request": digest(b""), "eof": False, "replied": 0}
    try:
        conn, _ = listener.accept()
    except TimeoutError:
        out["error"] = f"no client connected within {args.accept_timeout or args.timeout:g} s"
        return out
    out["connected"] = True
    request_bytes, out["eof"], err = read_until_eof(conn, time.monotonic() + args.timeout)
    out["request"] = digest(request_bytes)
    out["error"] = f"while reading the request: {err}" if err else None
    gaps = json.loads(args.gaps)
    if out["eof"]:  # the protocol: answer only a request the client said was complete
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            for i, piece in enumerate(cut(args.reply.encode(), json.loads(args.cuts))):
                if i and gaps:
                    time.sleep(gaps[(i - 1) % len(gaps)])
                conn.sendall(piece)
                out["replied"] += len(piece)
            time.sleep(args.hold)  # a real server may take a while to close
        except OSError as exc:
            out["error"] = f"while replying: {error_name(exc)}"
    conn.close()
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="handshake.py")
    sub = parser.add_subparsers(dest="command", required=True)
    req, srv = sub.add_parser("request"), sub.add_parser("serve")
    req.add_argument("--host", required=True)
    req.add_argument("--plan", required=True)
    srv.add_argument("--reply", required=True)
    srv.add_argument("--cuts", default="[]")
    srv.add_argument("--gaps", default="[]")
    srv.add_argument("--hold", type=float, default=0.0)
    srv.add_argument("--accept-timeout", type=float, help="for the client to come (default: --timeout)")
    for p in (req, srv):
        p.add_argument("--port", type=int, required=True)
        p.add_argument("--timeout", type=float, default=5.0)
    args = parser.parse_args(argv)
    print(json.dumps({"request": request, "serve": serve}[args.command](args)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
