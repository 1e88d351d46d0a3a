"""Lab 4's hands inside the lab containers: framed messages. Stdlib only, prints JSON.

It runs as the container's root user (no capabilities) and reports what it observed
on the wire; the checker on the host judges. A frame is a 5-byte header -- a kind byte
(``M`` message, ``E`` error) and the payload's length, 4 bytes big-endian -- then the
payload. The lab's server answers each ``M`` frame with an ``M`` frame holding the
payload reversed.

  message_framing.py exchange --host H --port P --message SPEC... [--split HOW] [--gap-ms G]
  message_framing.py stall    --host H --port P --message SPEC --stall-at N...
  message_framing.py raw      --host H --port P [--hex BYTES] [--frame SPEC...]
                              [--then wait|shutdown|reset] [--read N]
  message_framing.py serve    --port P [--timeout S] [--error-at N --reason R] [--pause-at N]
                              [--bytes-at N]

A message SPEC is ``empty``, ``text:WORDS`` or ``random:SIZE:SEED`` (seeded bytes).
``exchange`` sends the messages' frames as one byte stream cut into writes by HOW --
``whole`` (one send), ``fixed:N`` (N-byte writes), ``random:SEED:MAX`` (1..MAX-byte
writes), ``headers:SEED`` (frame i's header cut after its byte 1 + i % 5, each payload in
two at a seeded place), ``at:O1,O2,...`` (writes ending at those stream offsets; ``O@MS``
waits MS ms after that write) -- ``--gap-ms`` apart, with TCP_NODELAY so each write
leaves as its own segment; it reads all the while and compares the bytes that come back
with the expected replies.
``stall`` sends one message, and stops reading its reply at each ``--stall-at`` byte
count: it prints ``{"stalled": ...}`` and reads on when a line arrives on stdin.
``raw`` sends bytes (then M frames of the SPECs), then waits for the server to close
(``wait``), closes its own sending side first (``shutdown``) or resets the connection
(``reset``, after reading ``--read`` bytes of the reply, if asked; ``shutdown-reset``
closes its sending side first, then reads and resets).
``serve`` is a framed server for the student's client: it answers each message with
``answer(payload)`` (not the reverse the student's server sends), trickled out a few bytes
per send, and keeps the connection until the client closes it. It answers message
``--error-at`` (1-based) with the E frame ``--reason`` instead, then closes; it pauses
2.5 s (longer than the 1 or 2 s timeouts programs set) in the middle of reply
``--pause-at``'s header; it answers message ``--bytes-at`` with its bytes reversed, as
the lab's server does (not valid UTF-8 if it held a multi-byte character).
"""

from __future__ import annotations

import argparse
import errno
import json
import random
import selectors
import socket
import struct
import sys
import time

try:  # in a lab container the probes sit side by side (/socklab)
    from bounded import overflowed, read_until
except ImportError:  # imported from the socklab package (the unit tests)
    from socklab.probes.bounded import overflowed, read_until

HEADER = struct.Struct("!cI")
IDLE = 5.0  # seconds without a byte from the server before the probe stops waiting


def payload(spec: str) -> bytes:
    kind, _, rest = spec.partition(":")
    if kind == "empty":
        return b""
    if kind == "text":
        return rest.encode()
    if kind == "random":
        size, _, seed = rest.partition(":")
        return random.Random(int(seed or 0)).randbytes(int(size))
    raise SystemExit(f"unknown message {spec!r}")


def frame(kind: bytes, data: bytes) -> bytes:
    return HEADER.pack(kind, len(data)) + data


def cuts(frames: list[bytes], how: str) -> list[int]:
    """The offsets in the stream where one write ends and the next begins."""
    total = sum(map(len, frames))
    if how == "whole":
        return [total]
    if how.startswith("fixed:"):
        step = int(how.split(":")[1])
        return [*range(step, total, step), total]
    if how.startswith("random:"):
        _, seed, most = how.split(":")
        rng, ends, end = random.Random(int(seed)), [], 0
        while end < total:
            end = min(total, end + rng.randint(1, int(most)))
            ends.append(end)
        return ends
    if how.startswith("headers"):
        rng, ends, start = random.Random(how.partition(":")[2]), [], 0
        for i, f in enumerate(frames):
            body = len(f) - HEADER.size
            middle = start + HEADER.size + (rng.randint(1, body - 1) if body > 1 else 0)
            ends += [start + 1 + i % HEADER.size, middle, start + len(f)]
            start += len(f)
        return sorted(set(ends) - {0})
    if how.startswith("at:"):
        offsets = {int(o.partition("@")[0]) for o in how[3:].split(",") if o}
        return sorted(o for o in offsets | {total} if 0 < o <= total)
    raise SystemExit(f"unknown split {how!r}")


def gaps(how: str, ends: list[int], gap_ms: float) -> list[float]:
    """Seconds to wait after each write: ``gap_ms``, or for ``at:OFFSET@MS`` that write's own."""
    own = {}
    if how.startswith("at:"):
        for spec in filter(None, how[3:].split(",")):
            offset, _, ms = spec.partition("@")
            if ms:
                own[int(offset)] = float(ms)
    return [own.get(end, gap_ms) / 1000 for end in ends]


def connect(host: str, port: int, rcvbuf: int = 0) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:  # before connect(): it sets the window the connection starts with
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(5)
    sock.connect((host, port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def locate(expected_sizes: list[int], offset: int) -> dict:
    """Which reply, and which part of it, a byte offset in the reply stream falls in."""
    start = 0
    for i, size in enumerate(expected_sizes):
        if offset < start + HEADER.size + size:
            inside = offset - start
            part = f"header byte {inside}" if inside < HEADER.size else f"payload byte {inside - HEADER.size}"
            return {"reply": i, "reply_start": start, "part": part}
        start += HEADER.size + size
    return {"reply": len(expected_sizes), "reply_start": start, "part": "after the last reply"}


def compare(expected: bytes, sizes: list[int], got: bytes) -> dict:
    """What came back, against the expected replies: how many matched, where it first differs."""
    diff = (
        None
        if got == expected
        else next((i for i, (a, b) in enumerate(zip(expected, got, strict=False)) if a != b), None)
    )
    if diff is None and len(expected) != len(got):
        diff = min(len(expected), len(got))
    matched = diff if diff is not None else len(expected)
    complete, end = 0, 0
    for size in sizes:
        end += HEADER.size + size
        if end > matched:
            break
        complete += 1
    seen: dict = {
        "expected": len(expected),
        "received": len(got),
        "replies": len(sizes),
        "complete_replies": complete,
        "first_difference": diff,
    }
    if diff is not None:
        where = locate(sizes, diff)
        head = got[where["reply_start"] : where["reply_start"] + HEADER.size]
        seen.update(where, expected_at=expected[diff : diff + 16].hex(), got_at=got[diff : diff + 16].hex())
        if len(head) == HEADER.size:
            kind, length = HEADER.unpack(head)
            seen["got_header"] = {"kind": kind.decode("latin-1"), "length": length}
            if kind == b"E":
                body = got[where["reply_start"] + HEADER.size :][: min(length, 200)]
                seen["got_error"] = body.decode("latin-1")
    return seen


def exchange(args: argparse.Namespace) -> dict:
    """Send the frames cut as asked while reading the replies; stop when all are in."""
    messages = [payload(spec) for spec in args.message]
    frames = [frame(b"M", m) for m in messages]
    stream, ends = b"".join(frames), cuts(frames, args.split)
    waits = gaps(args.split, ends, args.gap_ms)
    expected = b"".join(frame(b"M", m[::-1]) for m in messages)
    got = bytearray()
    result: dict = {"error": None, "peer_closed": False}
    try:
        sock = connect(args.host, args.port)
    except OSError as exc:
        return {
            **compare(expected, [len(m) for m in messages], b""),
            "error": f"connect: {exc}",
            "peer_closed": False,
            "written": 0,
            "writes": 0,
        }
    sock.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(sock, selectors.EVENT_READ | selectors.EVENT_WRITE)
    offset, piece, next_write, last_heard = 0, 0, 0.0, time.monotonic()
    try:
        while len(got) < len(expected) or offset < len(stream):
            now = time.monotonic()
            if now - last_heard > IDLE:
                result["error"] = f"nothing more from the server for {IDLE:g} s"
                break
            writing = offset < len(stream) and now >= next_write
            sel.modify(sock, selectors.EVENT_READ | (selectors.EVENT_WRITE if writing else 0))
            pause = next_write - now if offset < len(stream) and not writing else 0.05
            for _key, events in sel.select(timeout=min(max(pause, 0.0), 0.05)):
                if events & selectors.EVENT_WRITE:
                    offset += sock.send(stream[offset : ends[piece]])
                    last_heard = time.monotonic()  # the server is taking bytes: not idle
                    if offset == ends[piece]:
                        next_write = last_heard + waits[piece]
                        last_heard = next_write  # our own pause is not the server's silence
                        piece += 1
                if events & selectors.EVENT_READ:
                    chunk = sock.recv(1 << 20)
                    if not chunk:
                        result["peer_closed"] = True
                        raise StopIteration
                    got += chunk
                    last_heard = time.monotonic()
                    if overflowed(got, len(expected)):
                        result["overflow"] = True  # the server sends without end: enough seen
                        raise StopIteration
    except StopIteration:
        pass
    except OSError as exc:
        result["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        sock.close()
    return {
        **compare(expected, [len(m) for m in messages], bytes(got)),
        **result,
        "written": offset,
        "writes": piece,
        "stream": len(stream),
    }


def stall(args: argparse.Namespace) -> dict:
    """A client with a small receive window that stops reading at set points of its reply."""
    message = payload(args.message[0])
    expected = frame(b"M", message[::-1])
    result: dict = {"error": None, "peer_closed": False, "stalls": 0}
    got = bytearray()
    try:
        sock = connect(args.host, args.port, rcvbuf=4096)
        sock.settimeout(IDLE)
        result["port"] = sock.getsockname()[1]
        sock.sendall(frame(b"M", message))
        for point in [*args.stall_at, len(expected)]:
            while len(got) < point:
                chunk = sock.recv(min(4096, point - len(got)))
                if not chunk:
                    result["peer_closed"] = True
                    raise StopIteration
                got += chunk
            if point < len(expected):
                print(json.dumps({"stalled": len(got), "port": result["port"]}), flush=True)
                sys.stdin.readline()
                result["stalls"] += 1
    except StopIteration:
        pass
    except TimeoutError:
        result["error"] = f"nothing more from the server for {IDLE:g} s"
    except OSError as exc:
        result["error"] = f"{type(exc).__name__}: {exc}"
    return {**compare(expected, [len(message)], bytes(got)), **result}


def raw(args: argparse.Namespace) -> dict:
    """Send raw bytes, then see what comes back and how the connection ends."""
    start = time.monotonic()
    try:
        sock = connect(args.host, args.port)
        sock.sendall(bytes.fromhex(args.hex) + b"".join(frame(b"M", payload(s)) for s in args.frame))
    except OSError as exc:
        return {"error": f"{type(exc).__name__}: {exc}", "received": "", "ended": None}
    if args.then in ("reset", "shutdown-reset"):
        got = bytearray()
        try:
            if args.then == "shutdown-reset":  # the server is then in CLOSE_WAIT: the reset
                sock.shutdown(socket.SHUT_WR)  # makes its send() fail with EPIPE, not ECONNRESET
            while len(got) < args.read and (chunk := sock.recv(min(4096, args.read - len(got)))):
                got += chunk
        except OSError as exc:
            return {
                "error": f"{type(exc).__name__}: {exc}",
                "received": got[:512].hex(),
                "received_bytes": len(got),
                "ended": None,
            }
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
        return {
            "error": None,
            "received": got[:512].hex(),
            "received_bytes": len(got),
            "ended": "reset by us",
        }
    got, ended = bytearray(), None
    try:
        if args.then == "shutdown":
            sock.shutdown(socket.SHUT_WR)  # fails if the server has already reset the connection
        # idle: the server's silence; the deadline: one that trickles bytes without end
        if read_until(sock, got, None, start + 3 * args.timeout, idle=args.timeout):
            ended = "closed"
        elif overflowed(got):
            ended = "overflow"  # the server sends without end: enough seen
        else:
            ended = f"still open after {time.monotonic() - start:.0f} s"
    except OSError as exc:
        ended = "reset" if exc.errno in (errno.ECONNRESET, errno.ENOTCONN) else f"{exc}"
    finally:
        sock.close()
    return {
        "error": None,
        "received": got[:512].hex(),
        "received_bytes": len(got),
        "ended": ended,
        "elapsed": round(time.monotonic() - start, 3),
    }


def recv_exactly(conn: socket.socket, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise EOFError(len(data))
        data += chunk
    return bytes(data)


def answer(data: bytes) -> bytes:
    """The test server's reply: UTF-8 text reversed by characters and upper-cased (still
    UTF-8, unlike the bytes reversed), other bytes reversed and upper-cased."""
    try:
        return data.decode()[::-1].upper().encode()
    except UnicodeDecodeError:
        return data[::-1].upper()


def trickle(conn: socket.socket, data: bytes, rng: random.Random, pause: float = 0.0) -> None:
    """Send a frame in pieces: each header byte on its own, the payload in small bits; with
    ``pause``, wait that long after the header's second byte (a peer that stalls)."""
    pieces = [data[i : i + 1] for i in range(HEADER.size)]
    at = HEADER.size
    while at < len(data):
        step = rng.randint(1, 200)
        pieces.append(data[at : at + step])
        at += step
    for i, piece in enumerate(pieces):
        conn.sendall(piece)
        time.sleep(pause if i == 1 and pause else 0.005)  # pacing: pieces arrive apart


def serve(args: argparse.Namespace) -> dict:
    """Accept one client; answer each of its messages, trickled; report what it sent."""
    listener = socket.create_server(("", args.port))
    listener.settimeout(args.timeout)
    print(json.dumps({"listening": args.port}), flush=True)
    try:
        conn, peer = listener.accept()
    except TimeoutError:
        return {"error": f"no client connected within {args.timeout:g} s", "messages": [], "sent_error": None}
    conn.settimeout(args.timeout)
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    messages: list[str] = []
    error, rng, sent_error = None, random.Random(4), None  # the same pieces every run
    deadline = time.monotonic() + 2 * args.timeout  # a client that talks without end
    try:
        while True:
            if time.monotonic() > deadline:
                error = f"the client was still sending after {2 * args.timeout:g} s"
                break
            try:
                kind, length = HEADER.unpack(recv_exactly(conn, HEADER.size))
            except EOFError as exc:
                if exc.args[0]:
                    error = f"the client closed after {exc.args[0]} bytes of a header"
                break
            if kind != b"M" or length > 1 << 20:
                error = f"the client sent a header with kind {kind!r} and length {length}"
                break
            data = recv_exactly(conn, length)
            messages.append(data.hex())
            if len(messages) == args.error_at:
                trickle(conn, frame(b"E", args.reason.encode()), rng)
                sent_error = args.reason
                conn.shutdown(socket.SHUT_WR)  # then close, reading on so as not to reset
                while time.monotonic() < deadline and conn.recv(65536):
                    pass
                break
            pause = 2.5 if len(messages) == args.pause_at else 0.0
            reply = data[::-1] if len(messages) == args.bytes_at else answer(data)
            trickle(conn, frame(b"M", reply), rng, pause)
    except EOFError as exc:
        error = f"the client closed in the middle of a message ({exc.args[0]} bytes of it)"
    except (OSError, TimeoutError) as exc:
        error = f"{type(exc).__name__}: {exc}"
    finally:
        conn.close()
    return {"error": error, "peer": peer[0], "messages": messages, "sent_error": sent_error}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="message_framing.py")
    sub = parser.add_subparsers(dest="command", required=True)
    commands = {"exchange": exchange, "stall": stall, "raw": raw, "serve": serve}
    subs = {name: sub.add_parser(name) for name in commands}
    for name in ("exchange", "stall", "raw"):
        subs[name].add_argument("--host", required=True)
        subs[name].add_argument("--port", type=int, required=True)
    for name in ("exchange", "stall"):
        subs[name].add_argument("--message", action="append", required=True)
    subs["exchange"].add_argument("--split", default="whole")
    subs["exchange"].add_argument("--gap-ms", type=float, default=0.0)
    subs["stall"].add_argument("--stall-at", type=int, action="append", default=[])
    subs["raw"].add_argument("--hex", default="")
    subs["raw"].add_argument("--frame", action="append", default=[])  # M frames sent after --hex
    subs["raw"].add_argument(
        "--then", choices=("wait", "shutdown", "reset", "shutdown-reset"), default="wait"
    )
    subs["raw"].add_argument("--timeout", type=float, default=IDLE)
    subs["raw"].add_argument("--read", type=int, default=0)
    subs["serve"].add_argument("--port", type=int, required=True)
    subs["serve"].add_argument("--timeout", type=float, default=10.0)
    subs["serve"].add_argument("--error-at", type=int, default=0)
    subs["serve"].add_argument("--reason", default="bad kind")
    subs["serve"].add_argument("--pause-at", type=int, default=0)
    subs["serve"].add_argument("--bytes-at", type=int, default=0)
    args = parser.parse_args(argv)
    print(json.dumps(commands[args.command](args)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
