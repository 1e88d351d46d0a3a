"""Lab 4 reference: a framed client. Usage: python3 client.py HOST PORT MESSAGE..."""

import socket
import sys

from framing import MAX_SIZE, recv_exactly, recv_header, send_frame


def ask(sock: socket.socket, message: bytes) -> bytes:
    """Send one message, return the reply's payload; exit on an error reply."""
    send_frame(sock, b"M", message)
    header = recv_header(sock)
    if header is None:
        sys.exit("error: the server closed the connection")
    kind, length = header
    if length > MAX_SIZE:
        sys.exit(f"error: the server announced a {length}-byte reply")
    payload = recv_exactly(sock, length)
    if payload is None:
        sys.exit("error: the server closed the connection in the middle of a reply")
    if kind == b"E":
        sys.exit(f"error: {payload.decode(errors='replace')}")
    return payload


def main() -> None:
    host, port, messages = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    with socket.create_connection((host, port), timeout=2.0) as sock:
        for message in messages:
            print(ask(sock, message.encode()).decode(errors="replace"), flush=True)


if __name__ == "__main__":
    main()
