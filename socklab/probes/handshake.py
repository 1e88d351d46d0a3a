"""Lab 3's probe: the checker's own client and server for a half-closed exchange.

Stdlib only; runs inside a lab container (mounted at /socklab/handshake.py) as root
without capabilities and prints one JSON object: what it observed, never a verdict.

  handshake.py request --host H --port P --payload SPEC [--pieces N] [--gap-ms MS] [--timeout S]
      connect, send the payload in N pieces with pauses (noting anything that comes back
      early), shut down the sending side, read the reply until EOF
  handshake.py serve --port P --reply TEXT [--pieces N] [--gap-ms MS] [--timeout S]
      print {"listening": P}, accept one client, read its request until EOF, then send the
      reply in N pieces with pauses and close

A payload SPEC is ``empty``, ``text:WORDS`` or ``random:SIZE:SEED`` (seeded bytes).
"""

from __future__ import annotations

import argparse
import errno
import json
import random
import select
import socket
import sys
import time

KEEP = 4096  # bytes of a reply or request kept in the report


def payload(spec: str) -> bytes:
    kind, _, rest = spec.partition(":")
    if kind == "empty":
        return b""
    if kind == "text":
        return rest.encode()
    if kind == "random":
        size, _, seed = rest.partition(":")
        return random.Random(int(seed or 0)).randbytes(int(size))
    raise SystemExit(f"unknown payload {spec!r}")


def pieces(data: bytes, count: int) -> list[bytes]:
    """``data`` cut into ``count`` pieces of about the same size (none when empty)."""
    step = -(-len(data) // max(count, 1)) or 1
    return [data[i:i + step] for i in range(0, len(data), step)]


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
    return bytes(got), False, None


def request(args: argparse.Namespace) -> dict:
    data = payload(args.payload)
    out: dict = {"request_size": len(data), "sent": 0, "early": "", "early_eof": False, "early_at": None,
                 "error": None, "reply": "", "reply_size": 0, "eof": False, "wait": None}
    try:
        sock = socket.create_connection((args.host, args.port), timeout=args.timeout)
    except OSError as exc:
        out["error"] = f"connect: {error_name(exc)}"
        return out
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    early = bytearray()
    try:
        for piece in pieces(data, args.pieces):
            sock.sendall(piece)
            out["sent"] += len(piece)
            if args.gap_ms and out["sent"] < len(data):
                got, eof, err = wait_readable(sock, args.gap_ms / 1000)
                if (got or eof or err) and out["early_at"] is None:
                    out["early_at"] = out["sent"]  # bytes of the request sent when it came
                early += got
                out["early_eof"] = out["early_eof"] or eof
                if err:
                    raise ConnectionResetError(err)
        sock.shutdown(socket.SHUT_WR)
    except OSError as exc:
        out["error"] = f"while sending: {error_name(exc)}"
    out["early"] = early[:KEEP].decode("latin-1")
    shut = time.monotonic()
    reply, out["eof"], err = read_until_eof(sock, shut + args.timeout)
    out["error"] = out["error"] or (f"while reading the reply: {err}" if err else None)
    if out["eof"]:
        out["wait"] = round(time.monotonic() - shut, 4)
    out["reply"], out["reply_size"] = reply[:KEEP].decode("latin-1"), len(reply)
    sock.close()
    return out


def serve(args: argparse.Namespace) -> dict:
    try:
        listener = socket.create_server(("", args.port))
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        return {"error": f"port {args.port} is in use", "in_use": args.port}
    print(json.dumps({"listening": args.port}), flush=True)
    listener.settimeout(args.accept_timeout or args.timeout)
    out: dict = {"error": None, "connected": False, "request": "", "request_size": 0,
                 "eof": False, "replied": 0}
    try:
        conn, _ = listener.accept()
    except TimeoutError:
        out["error"] = f"no client connected within {args.accept_timeout or args.timeout:g} s"
        return out
    out["connected"] = True
    request_bytes, out["eof"], err = read_until_eof(conn, time.monotonic() + args.timeout)
    out["request"], out["request_size"] = request_bytes[:KEEP].decode("latin-1"), len(request_bytes)
    out["error"] = f"while reading the request: {err}" if err else None
    if out["eof"]:  # the protocol: answer only a request the client said was complete
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            for i, piece in enumerate(pieces(args.reply.encode(), args.pieces)):
                if i:
                    time.sleep(args.gap_ms / 1000)
                conn.sendall(piece)
                out["replied"] += len(piece)
        except OSError as exc:
            out["error"] = f"while replying: {error_name(exc)}"
    conn.close()
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="handshake.py")
    sub = parser.add_subparsers(dest="command", required=True)
    req, srv = sub.add_parser("request"), sub.add_parser("serve")
    req.add_argument("--host", required=True)
    req.add_argument("--payload", required=True)
    srv.add_argument("--reply", required=True)
    srv.add_argument("--accept-timeout", type=float, help="for the client to come (default: --timeout)")
    for p in (req, srv):
        p.add_argument("--port", type=int, required=True)
        p.add_argument("--pieces", type=int, default=1)
        p.add_argument("--gap-ms", type=float, default=0.0)
        p.add_argument("--timeout", type=float, default=5.0)
    args = parser.parse_args(argv)
    print(json.dumps({"request": request, "serve": serve}[args.command](args)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
