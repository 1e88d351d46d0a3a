"""Lab 3: a client reading with ``recv_into`` into a small buffer."""

import socket
import sys


def main() -> None:
    host, port, message = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()
    buffer = bytearray(64)
    reply = []
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.connect((host, port))
        sock.sendall(message)
        sock.shutdown(socket.SHUT_WR)
        while n := sock.recv_into(buffer):
            reply.append(buffer[:n].decode("utf-8", errors="replace"))
    finally:
        sock.close()
    sys.stdout.write("".join(reply))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
