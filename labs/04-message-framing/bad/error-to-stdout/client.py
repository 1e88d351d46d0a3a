"""Lab 4: a client reading replies through ``makefile``."""

import socket
import sys

from framing import HEADER, MAX_SIZE, send_frame


def main() -> int:
    host, port, messages = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    with socket.create_connection((host, port)) as sock, sock.makefile("rb") as replies:
        for message in messages:
            send_frame(sock, b"M", message.encode("utf-8"))
            header = replies.read(HEADER.size)
            if len(header) < HEADER.size:
                print("error: the server closed the connection", file=sys.stderr)
                return 1
            kind, length = HEADER.unpack(header)
            if length > MAX_SIZE:
                print(f"error: a reply of {length} bytes is over MAX_SIZE", file=sys.stderr)
                return 1
            payload = replies.read(length)
            if len(payload) < length:
                print("error: the server closed in the middle of a reply", file=sys.stderr)
                return 1
            if kind == b"E":
                print(f"error: {payload.decode('utf-8', errors='replace')}")
                return 1
            if kind != b"M":
                print(f"error: unknown reply kind {kind!r}", file=sys.stderr)
                return 1
            sys.stdout.buffer.write(payload + b"\n")
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
