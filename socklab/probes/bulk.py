"""One-way bulk TCP for measuring throughput through the router: stdlib only, prints JSON.

bulk.py sink --port P [--timeout S]     accept one sender, read to EOF
bulk.py send --host H --port P --bytes N
"""

from __future__ import annotations

import argparse
import hashlib
import json
import socket
import sys
import time

CHUNK = 1 << 16


def sink(args: argparse.Namespace) -> dict:
    listener = socket.create_server(("", args.port))
    listener.settimeout(args.timeout)
    print(json.dumps({"listening": args.port}), flush=True)
    conn, _ = listener.accept()
    digest, total, start = hashlib.sha256(), 0, None
    while chunk := conn.recv(CHUNK):
        start = start or time.monotonic()
        digest.update(chunk)
        total += len(chunk)
    elapsed = time.monotonic() - (start or time.monotonic())
    return {"received": total, "sha256": digest.hexdigest(), "elapsed": round(elapsed, 4)}


def send(args: argparse.Namespace) -> dict:
    block = bytes(range(256)) * (CHUNK // 256)
    digest = hashlib.sha256()
    start = time.monotonic()
    with socket.create_connection((args.host, args.port)) as conn:
        left = args.bytes
        while left > 0:
            piece = block[: min(left, CHUNK)]
            conn.sendall(piece)
            digest.update(piece)
            left -= len(piece)
    elapsed = time.monotonic() - start
    return {
        "sent": args.bytes,
        "sha256": digest.hexdigest(),
        "elapsed": round(elapsed, 4),
        "mb_per_s": round(args.bytes / elapsed / 1e6, 1),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bulk.py")
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("sink")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--timeout", type=float, default=60.0)
    t = sub.add_parser("send")
    t.add_argument("--host", required=True)
    t.add_argument("--port", type=int, required=True)
    t.add_argument("--bytes", type=int, required=True)
    args = parser.parse_args(argv)
    print(json.dumps({"sink": sink, "send": send}[args.command](args)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
