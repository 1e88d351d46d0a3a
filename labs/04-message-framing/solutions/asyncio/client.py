"""Lab 4 alternative solution: a client on the ``recv_into`` framing.

Design: one connection; for each message, ``send_frame`` then ``recv_header`` and
``recv_exactly`` from framing.py. The reply's payload is printed decoded as UTF-8
(undecodable bytes replaced), one line each; an ``E`` reply ends the client with
``error: REASON`` on stderr and status 1.
"""

import socket
import sys
from typing import NoReturn

from framing import MAX_SIZE, recv_exactly, recv_header, send_frame


def fail(reason: str) -> NoReturn:
    print(f"error: {reason}", file=sys.stderr, flush=True)
    sys.exit(1)


def ask(sock: socket.socket, message: bytes) -> bytes:
    """Send one message, return the reply's payload; exit on an error reply."""
    send_frame(sock, b"M", message)
    header = recv_header(sock)
    if header is None:
        fail("the server closed the connection")
    kind, length = header
    if length > MAX_SIZE:
        fail(f"reply announces {length} bytes, over {MAX_SIZE}")
    payload = recv_exactly(sock, length)
    if payload is None:
        fail("the server closed in the middle of a reply")
    if kind == b"E":
        fail(payload.decode("utf-8", errors="replace"))
    if kind != b"M":
        fail(f"unknown reply kind {kind!r}")
    return payload


def main() -> None:
    host, port, messages = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    with socket.create_connection((host, port)) as sock:
        for message in messages:
            print(ask(sock, message.encode("utf-8")).decode("utf-8", errors="replace"), flush=True)


if __name__ == "__main__":
    main()
