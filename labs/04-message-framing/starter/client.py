"""Lab 4: a framed client. Usage: python3 client.py HOST PORT MESSAGE...

Read the lab's README.md first. main() is written; ask() is yours.
"""

import socket
import sys

from framing import MAX_SIZE, recv_exactly, recv_header, send_frame  # noqa: F401 (yours to use)


def ask(sock: socket.socket, message: bytes) -> bytes:
    """Send one message, return the reply's payload; exit on an error reply."""
    # TODO: send_frame() the message as kind b"M"; recv_header() the reply's header
    #       (None: the server closed -- sys.exit() with a message); refuse a length over
    #       MAX_SIZE; recv_exactly() the payload. Kind b"E": sys.exit(f"error: {reason}").
    #       Return the payload of an b"M" reply.
    sys.exit(f"ask() not written yet ({len(message)} bytes, MAX_SIZE {MAX_SIZE})")


def main() -> None:
    host, port, messages = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    with socket.create_connection((host, port)) as sock:
        for message in messages:
            print(ask(sock, message.encode()).decode(errors="replace"), flush=True)


if __name__ == "__main__":
    main()

