"""The checker's hands inside a lab container: stdlib only, prints one JSON object.

It runs as the container's root user (no capabilities), out of the student's reach,
and reports what it observed on the wire: bytes sent and received, digests, the first
difference, whether the peer closed. The checker on the host judges; this only looks.

  probe.py tcp-echo  --host H --port P --payload SPEC [--chunk N [--chunk-seed S]] [--timeout S]
  probe.py tcp-abort --host H --port P [--send N]
  probe.py tcp-serve --port P --reply TEXT [--expect N] [--timeout S]
  probe.py udp-send  --host H --port P --count N [--size B] [--interval-ms MS]
  probe.py udp-sink  --port P [--count N] [--idle S] [--timeout S]

A payload SPEC is ``empty``, ``all-bytes`` (0..255), ``text:WORDS`` or
``random:SIZE:SEED`` (seeded, reproducible bytes).
"""

from __future__ import annotations

import argparse
import errno
import hashlib
import itertools
import json
import random
import selectors
import socket
import struct
import sys
import time


def payload(spec: str) -> bytes:
    kind, _, rest = spec.partition(":")
    if kind == "empty":
        return b""
    if kind == "all-bytes":
        return bytes(range(256))
    if kind == "text":
        return rest.encode()
    if kind == "random":
        size, _, seed = rest.partition(":")
        return random.Random(int(seed or 0)).randbytes(int(size))
    raise SystemExit(f"unknown payload {spec!r}")


def summary(sent: bytes, got: bytes) -> dict:
    diff = next((i for i, (a, b) in enumerate(zip(sent, got, strict=False)) if a != b), None)
    if diff is None and len(sent) != len(got):
        diff = min(len(sent), len(got))
    return {
        "sent": len(sent), "received": len(got),
        "sha256_sent": hashlib.sha256(sent).hexdigest(),
        "sha256_received": hashlib.sha256(got).hexdigest(),
        "first_difference": diff,
        "sent_at_difference": sent[diff:diff + 16].hex() if diff is not None else "",
        "received_at_difference": got[diff:diff + 16].hex() if diff is not None else "",
        "received_head": got[:64].decode("latin-1"),
    }


def connect(host: str, port: int, timeout: float) -> socket.socket:
    sock = socket.create_connection((host, port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def tcp_echo(args: argparse.Namespace) -> dict:
    """Send the payload in chunks while reading; stop at EOF, at a full echo, or on timeout."""
    data = payload(args.payload)
    start = time.monotonic()
    got = bytearray()
    result: dict = {"error": None, "peer_closed": False}
    try:
        sock = connect(args.host, args.port, args.timeout)
    except OSError as exc:
        return {**summary(data, b""), "error": f"connect: {exc}", "peer_closed": False, "written": 0,
                "elapsed": time.monotonic() - start}
    sock.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(sock, selectors.EVENT_READ | (selectors.EVENT_WRITE if data else 0))
    offset = 0
    pieces = random.Random(args.chunk_seed) if args.chunk_seed is not None else None
    if not data:
        sock.shutdown(socket.SHUT_WR)  # nothing to echo: say so, and expect a clean close
    deadline = start + args.timeout
    try:
        while time.monotonic() < deadline:
            for _key, events in sel.select(timeout=max(0.0, deadline - time.monotonic())):
                if events & selectors.EVENT_WRITE and offset < len(data):
                    size = pieces.randint(1, args.chunk) if pieces else args.chunk
                    offset += sock.send(data[offset:offset + size])
                    if offset == len(data):
                        sel.modify(sock, selectors.EVENT_READ)
                if events & selectors.EVENT_READ:
                    chunk = sock.recv(65536)
                    if not chunk:
                        result["peer_closed"] = True
                        raise StopIteration
                    got += chunk
            if data and len(got) >= len(data) and offset == len(data):
                break
        else:
            result["error"] = f"timed out after {args.timeout} s"
    except StopIteration:
        pass
    except OSError as exc:
        result["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        sock.close()
    return {**summary(data, bytes(got)), **result, "written": offset,
            "elapsed": round(time.monotonic() - start, 4)}


def tcp_abort(args: argparse.Namespace) -> dict:
    """Connect, send a little, then reset the connection (SO_LINGER 0) mid-conversation."""
    try:
        sock = connect(args.host, args.port, 5)
        sock.sendall(payload(f"random:{args.send}:1"))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    except OSError as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}
    return {"error": None, "sent": args.send}


PAUSE = 0.5  # seconds of silence that end a client's message
EXPECTED_PAUSE = 0.05  # the same once the expected bytes are in


def tcp_serve(args: argparse.Namespace) -> dict:
    """Accept one client, read its message (until a pause or EOF), answer ``--reply``.

    With ``--expect N`` the pause that ends the message is short once N bytes are in: a
    client that sends what was expected need not wait half a second for its answer, and
    one that sends more still has it read (it comes in the same moment).
    """
    try:
        listener = socket.create_server(("", args.port), reuse_port=False)
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        return {"error": f"port {args.port} is in use", "in_use": args.port}  # by student code
    listener.settimeout(args.timeout)
    print(json.dumps({"listening": args.port}), flush=True)
    try:
        conn, peer = listener.accept()
    except TimeoutError:
        return {"error": f"no client connected within {args.timeout} s", "received": ""}
    got = bytearray()
    conn.settimeout(PAUSE)
    try:
        while chunk := conn.recv(65536):
            got += chunk
            if args.expect is not None and len(got) >= args.expect:
                conn.settimeout(EXPECTED_PAUSE)
    except TimeoutError:
        pass  # the client waits for the answer without closing: a pause ends its message
    conn.sendall(args.reply.encode())
    conn.close()
    return {"error": None, "peer": peer[0], "received": got.decode("latin-1")}


def datagram(seq: int, size: int) -> bytes:
    """Datagram ``seq``: its number, then bytes any receiver can recompute to spot damage."""
    head = struct.pack("!I", seq)
    return head + random.Random(seq).randbytes(max(size - len(head), 0))


def udp_send(args: argparse.Namespace) -> dict:
    """Send ``count`` numbered datagrams, paced by ``interval_ms``."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    start = time.monotonic()
    for seq in range(args.count):
        sock.sendto(datagram(seq, args.size), (args.host, args.port))
        pause = start + (seq + 1) * args.interval_ms / 1000 - time.monotonic()
        if pause > 0:
            time.sleep(pause)
    return {"error": None, "sent": args.count, "elapsed": round(time.monotonic() - start, 4)}


def udp_sink(args: argparse.Namespace) -> dict:
    """Receive numbered datagrams until ``count`` arrived or none came for ``idle`` s."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sock.bind(("", args.port))
    print(json.dumps({"listening": args.port}), flush=True)
    order: list[int] = []
    corrupted: list[int] = []
    deadline = time.monotonic() + args.timeout
    sock.settimeout(args.timeout)
    while time.monotonic() < deadline and (not args.count or len(order) < args.count):
        try:
            data, _ = sock.recvfrom(65536)
        except TimeoutError:
            break
        sock.settimeout(args.idle)  # after the first datagram, a pause means the end
        seq = struct.unpack("!I", data[:4])[0] if len(data) >= 4 else -1
        if data != datagram(seq, len(data)):
            corrupted.append(seq)
            continue
        order.append(seq)
    unique = set(order)
    in_order = sum(1 for a, b in itertools.pairwise(order) if b > a)
    return {"error": None, "received": len(order), "unique": len(unique),
            "duplicates": len(order) - len(unique), "corrupted": len(corrupted),
            "reordered": max(len(order) - 1 - in_order, 0), "order": order}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="probe.py")
    sub = parser.add_subparsers(dest="command", required=True)
    echo = sub.add_parser("tcp-echo")
    abort = sub.add_parser("tcp-abort")
    serve = sub.add_parser("tcp-serve")
    for p in (echo, abort):
        p.add_argument("--host", required=True)
        p.add_argument("--port", type=int, required=True)
    echo.add_argument("--payload", required=True)
    echo.add_argument("--chunk", type=int, default=65536, help="bytes per send()")
    echo.add_argument("--chunk-seed", type=int, help="random sizes from 1 to --chunk, seeded")
    echo.add_argument("--timeout", type=float, default=10.0)
    abort.add_argument("--send", type=int, default=100)
    serve.add_argument("--port", type=int, required=True)
    serve.add_argument("--reply", required=True)
    serve.add_argument("--expect", type=int, help="bytes the client should send")
    serve.add_argument("--timeout", type=float, default=10.0)
    send = sub.add_parser("udp-send")
    send.add_argument("--host", required=True)
    send.add_argument("--port", type=int, required=True)
    send.add_argument("--count", type=int, required=True)
    send.add_argument("--size", type=int, default=100)
    send.add_argument("--interval-ms", type=float, default=1.0)
    sink = sub.add_parser("udp-sink")
    sink.add_argument("--port", type=int, required=True)
    sink.add_argument("--count", type=int, default=0)
    sink.add_argument("--idle", type=float, default=1.0)
    sink.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args(argv)
    handler = {"tcp-echo": tcp_echo, "tcp-abort": tcp_abort, "tcp-serve": tcp_serve,
               "udp-send": udp_send, "udp-sink": udp_sink}[args.command]
    print(json.dumps(handler(args)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
