"""Lab 3, known wrong: the client sends its request and closes, never reading the reply.

Usage: python3 client.py HOST PORT MESSAGE
"""

import socket
import sys


def main() -> None:
    host, port, message = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()
    with socket.create_connection((host, port)) as sock:
        sock.sendall(message)
        sock.shutdown(socket.SHUT_WR)
    # closed: the reply arrives at a socket nobody will read, and the kernel resets
    print("request sent")


if __name__ == "__main__":
    main()
