"""Lab 1 reference: a TCP echo client. Usage: python3 client.py HOST PORT MESSAGE"""

import socket
import sys


def main() -> None:
    host, port, message = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()
    with socket.create_connection((host, port)) as sock:
        sock.sendall(message)
        reply = b""
        while len(reply) < len(message):
            chunk = sock.recv(65536)
            if not chunk:  # the server closed before echoing everything
                break
            reply += chunk
    print(reply.decode(errors="replace"))


if __name__ == "__main__":
    main()
