"""Lab 1: an echo client."""

import socket
import sys


def main() -> None:
    host, port, message = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()
    with socket.create_connection((host, port)) as sock:
        sock.sendall(message)
        reply = sock.recv(65536) if message else b""
    print(reply.decode("utf-8", errors="replace"), flush=True)


if __name__ == "__main__":
    main()
