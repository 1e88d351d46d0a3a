"""The checker's hands inside a lab container: stdlib only, prints one JSON object.

It runs as the container's root user (no capabilities), out of the student's reach,
and reports what it observed on the wire: bytes sent and received, digests, the first
difference, whether the peer closed. The checker on the host judges; this only looks.

  probe.py tcp-echo  --host H --port P --payload SPEC [--chunk N [--chunk-seed S]] [--timeout S]
                     [--stall S]
  probe.py tcp-abort --host H --port P [--send N] [--flood]
  probe.py tcp-converse --host H --port P --plan JSON [--wait S] [--final-wait S]
  probe.py tcp-serve --port P --reply TEXT [--expect N] [--timeout S]
  probe.py tcp-peer  --port P --reply TEXT --expect N [--split I,J] [--pause S,T]
                     [--close | --hold S] [--timeout S]
  probe.py udp-send  --host H --port P --count N [--size B] [--interval-ms MS]
  probe.py udp-sink  --port P [--count N] [--idle S] [--timeout S]

A payload SPEC is ``empty``, ``all-bytes`` (0..255), ``text:WORDS`` or
``random:SIZE:SEED`` (seeded, reproducible bytes).
"""

from __future__ import annotations

import argparse
import contextlib
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

try:  # in a lab container the probes sit side by side (/socklab)
    from bounded import KEEP, read_until
except ImportError:  # imported from the socklab package (the unit tests)
    from socklab.probes.bounded import KEEP, read_until


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
        "sent": len(sent),
        "received": len(got),
        "sha256_sent": hashlib.sha256(sent).hexdigest(),
        "sha256_received": hashlib.sha256(got).hexdigest(),
        "first_difference": diff,
        "sent_at_difference": sent[diff : diff + 16].hex() if diff is not None else "",
        "received_at_difference": got[diff : diff + 16].hex() if diff is not None else "",
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
        return {
            **summary(data, b""),
            "error": f"connect: {exc}",
            "peer_closed": False,
            "written": 0,
            "elapsed": time.monotonic() - start,
        }
    sock.setblocking(False)
    sel = selectors.DefaultSelector()
    # With --stall, a slow reader: nothing is read for the first S seconds while the payload
    # is written as fast as the peer takes it, so the peer's sends meet full buffers.
    stalled = args.stall > 0 and bool(data)
    sel.register(sock, (0 if stalled else selectors.EVENT_READ) | (selectors.EVENT_WRITE if data else 0))
    registered = True
    offset = 0
    pieces = random.Random(args.chunk_seed) if args.chunk_seed is not None else None
    if not data:
        sock.shutdown(socket.SHUT_WR)  # nothing to echo: say so, and expect a clean close
    deadline = start + args.timeout
    reading_from = start + args.stall if stalled else start
    try:
        while time.monotonic() < deadline:
            now = time.monotonic()
            if stalled and now >= reading_from:
                stalled = False
                events = selectors.EVENT_READ | (selectors.EVENT_WRITE if offset < len(data) else 0)
                if registered:
                    sel.modify(sock, events)
                else:
                    sel.register(sock, events)
                    registered = True
            wait = deadline - now
            if stalled:
                wait = min(wait, reading_from - now)
                if offset == len(data):  # all written: sleep out the stall
                    time.sleep(max(0.0, wait))
                    continue
            for _key, events in sel.select(timeout=max(0.0, wait)):
                if events & selectors.EVENT_WRITE and offset < len(data):
                    size = pieces.randint(1, args.chunk) if pieces else args.chunk
                    offset += sock.send(data[offset : offset + size])
                    if offset == len(data) and stalled:  # all written: nothing to wait for
                        sel.unregister(sock)
                        registered = False
                        break
                    if offset == len(data):
                        sel.modify(sock, selectors.EVENT_READ)
                if events & selectors.EVENT_READ:
                    chunk = sock.recv(65536)
                    if not chunk:
                        result["peer_closed"] = True
                        raise StopIteration
                    got += chunk
                    if len(got) > len(data) + KEEP:
                        result["overflow"] = True  # the peer sends without end: enough seen
                        raise StopIteration
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
    return {
        **summary(data, bytes(got)),
        **result,
        "written": offset,
        "elapsed": round(time.monotonic() - start, 4),
    }


def tcp_abort(args: argparse.Namespace) -> dict:
    """Connect, send a little, then reset the connection (SO_LINGER 0) mid-conversation.

    With ``--flood`` it sends without reading until nothing more goes in (the peer has
    stopped reading: an echo server is then blocked sending the echo back), then resets.
    """
    flooded = None
    try:
        sock = connect(args.host, args.port, 5)
        sock.sendall(payload(f"random:{args.send}:1"))
    except OSError as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}
    try:
        if args.flood:
            flooded = flood(sock)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError as exc:  # the peer closed first: nothing left to reset
        flooded = {**(flooded or {}), "error": f"{type(exc).__name__}: {exc}"}
    finally:
        sock.close()
    return {"error": None, "sent": args.send, "flooded": flooded}


STUCK = 0.5  # seconds without room to send that mean the peer has stopped reading


def flood(sock: socket.socket, limit: int = 8 << 20, timeout: float = 5.0) -> dict:
    """Send until nothing has gone in for STUCK s (or ``limit`` bytes, or ``timeout``)."""
    sock.setblocking(False)
    block = random.Random(2).randbytes(65536)
    sent, start = 0, time.monotonic()
    since = start  # when the last byte went in
    while sent < limit and (now := time.monotonic()) - start < timeout:
        try:
            sent += sock.send(block)
            since = now
        except BlockingIOError:
            if now - since >= STUCK:
                return {"sent": sent, "stuck": True}
            time.sleep(0.02)
        except OSError as exc:
            return {"sent": sent, "stuck": False, "error": f"{type(exc).__name__}: {exc}"}
    return {"sent": sent, "stuck": False}


def tcp_converse(args: argparse.Namespace) -> dict:
    """A conversation in lock-step: each piece of ``--plan`` (a JSON list of ``{"hex": ..,
    "pause": seconds before it, "wait": bool}``) is sent in one ``send()`` and, where
    ``wait``, its echo awaited before anything else is sent; so the peer reads each piece
    on its own (no coalescing with the next), whatever the timing. Then the probe closes
    its sending side and waits for the peer to close.
    """
    plan = json.loads(args.plan)
    start = time.monotonic()
    try:
        sock = connect(args.host, args.port, args.wait)
    except OSError as exc:
        return {"error": f"connect: {exc}", "pieces": [], "sent_hex": "", "received_hex": ""}
    sent, got = bytearray(), bytearray()
    pieces: list[dict] = []
    result: dict = {"error": None, "closed_after": None, "peer_closed": False}
    try:
        for step in plan:
            if step.get("pause"):
                time.sleep(step["pause"])
            data = bytes.fromhex(step["hex"])
            sock.sendall(data)
            sent += data
            if not step.get("wait", True):
                pieces.append({"size": len(data), "echo_s": None})
                continue
            began = time.monotonic()
            closed = read_until(sock, got, len(sent), began + args.wait)
            took = time.monotonic() - began
            pieces.append({"size": len(data), "echo_s": round(took, 4) if len(got) >= len(sent) else None})
            if closed or len(got) < len(sent):
                result["peer_closed"] = closed
                raise StopIteration
        sock.shutdown(socket.SHUT_WR)
        began = time.monotonic()
        if read_until(sock, got, None, began + args.final_wait):
            result["peer_closed"] = True
            result["closed_after"] = round(time.monotonic() - began, 4)
    except StopIteration:
        pass
    except OSError as exc:
        result["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        sock.close()
    return {
        **result,
        "pieces": pieces,
        "sent_hex": bytes(sent).hex(),
        "received_hex": bytes(got).hex(),
        "elapsed": round(time.monotonic() - start, 4),
    }


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
    limit, deadline = (args.expect or 0) + KEEP, time.monotonic() + args.timeout
    overflow = False
    try:
        while chunk := conn.recv(65536):
            got += chunk
            if args.expect is not None and len(got) >= args.expect:
                conn.settimeout(EXPECTED_PAUSE)
            if len(got) > limit or time.monotonic() > deadline:
                overflow = True  # a client that sends without end: what it sent is wrong anyway
                break
    except TimeoutError:
        pass  # the client waits for the answer without closing: a pause ends its message
    with contextlib.suppress(OSError):  # the client gone or not reading: judged by what it got
        conn.sendall(args.reply.encode())
    conn.close()
    return {
        "error": None,
        "peer": peer[0],
        "received": got[:limit].decode("latin-1"),
        "overflow": overflow,
        "received_bytes": len(got),
    }


def tcp_peer(args: argparse.Namespace) -> dict:
    """A server as a client meets them: accept one client, read its ``--expect`` bytes,
    answer ``--reply`` in pieces (cut at the ``--split`` byte offsets, ``--pause`` s apart,
    each in its own segment), then close at once (``--close``) or keep the connection
    open until the client closes it or ``--hold`` s pass. It notes all the client sent
    and when it closed."""
    try:
        listener = socket.create_server(("", args.port), reuse_port=False)
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        return {"error": f"port {args.port} is in use", "in_use": args.port}
    listener.settimeout(args.timeout)
    print(json.dumps({"listening": args.port}), flush=True)
    try:
        conn, peer = listener.accept()
    except TimeoutError:
        return {"error": f"no client connected within {args.timeout} s", "received_hex": ""}
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    got = bytearray()
    result: dict = {"error": None, "client_closed_after": None, "closed_early": False}
    try:
        closed = read_until(conn, got, args.expect, time.monotonic() + args.timeout)
        if not closed:  # what a client sends right after its message is part of what it sent
            closed = read_until(conn, got, args.expect + 1, time.monotonic() + 0.1)
        result["closed_early"] = closed
        reply = args.reply.encode()
        cuts = [0, *sorted(int(i) for i in args.split.split(",") if i), len(reply)]
        pauses = [float(p) for p in args.pause.split(",") if p]
        for n, (a, b) in enumerate(itertools.pairwise(cuts)):
            if n and n - 1 < len(pauses):
                time.sleep(pauses[n - 1])
            conn.sendall(reply[a:b])
        if not args.close:
            began = time.monotonic()
            if read_until(conn, got, None, began + args.hold):
                result["client_closed_after"] = round(time.monotonic() - began, 4)
    except OSError as exc:
        result["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        conn.close()
    return {**result, "peer": peer[0], "received_hex": bytes(got).hex()}


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
    return {
        "error": None,
        "received": len(order),
        "unique": len(unique),
        "duplicates": len(order) - len(unique),
        "corrupted": len(corrupted),
        "reordered": max(len(order) - 1 - in_order, 0),
        "order": order,
    }


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
    echo.add_argument(
        "--stall", type=float, default=0.0, help="seconds to read nothing at first (a slow reader)"
    )
    abort.add_argument("--send", type=int, default=100)
    abort.add_argument("--flood", action="store_true", help="send until the peer stops reading")
    converse = sub.add_parser("tcp-converse")
    converse.add_argument("--host", required=True)
    converse.add_argument("--port", type=int, required=True)
    converse.add_argument("--plan", required=True, help="JSON: [{hex, pause, wait}, ...]")
    converse.add_argument("--wait", type=float, default=3.0, help="seconds for each echo")
    converse.add_argument(
        "--final-wait", type=float, default=3.0, help="seconds for the peer to close once the probe has"
    )
    peer = sub.add_parser("tcp-peer")
    peer.add_argument("--port", type=int, required=True)
    peer.add_argument("--reply", required=True)
    peer.add_argument("--expect", type=int, required=True, help="bytes the client should send")
    peer.add_argument("--split", default="", help="byte offsets where the reply is cut")
    peer.add_argument("--pause", default="", help="seconds between the reply's pieces")
    peer.add_argument("--close", action="store_true", help="close right after replying")
    peer.add_argument("--hold", type=float, default=5.0, help="seconds to wait for the client to close")
    peer.add_argument("--timeout", type=float, default=10.0)
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
    handler = {
        "tcp-echo": tcp_echo,
        "tcp-abort": tcp_abort,
        "tcp-serve": tcp_serve,
        "tcp-converse": tcp_converse,
        "tcp-peer": tcp_peer,
        "udp-send": udp_send,
        "udp-sink": udp_sink,
    }[args.command]
    print(json.dumps(handler(args)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
