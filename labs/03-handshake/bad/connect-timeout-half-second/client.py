"""Lab 3: a client reading with ``recv_into`` into a small buffer."""

import socket
import sys


def main() -> None:
    host, port, message = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()
    buffer = bytearray(64)
    reply = bytearray()
    sock = socket.create_connection((host, port), timeout=0.5)
    sock.settimeout(None)
    try:
        sock.sendall(message)
        sock.shutdown(socket.SHUT_WR)
        while n := sock.recv_into(buffer):
            reply += buffer[:n]
    finally:
        sock.close()
    sys.stdout.buffer.write(reply)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
