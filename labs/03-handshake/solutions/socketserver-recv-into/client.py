"""Lab 3 alternative solution: a client reading with ``recv_into`` into a small buffer.

Design: an explicit ``socket()`` + ``connect()``; the request goes out with
``sendall``; ``shutdown(SHUT_WR)`` sends the FIN; the reply is read with ``recv_into``
a 64-byte buffer (so a reply always takes several reads) until a read returns 0, then
written to stdout as raw bytes.
"""

import socket
import sys


def main() -> None:
    host, port, message = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()
    buffer = bytearray(64)
    reply = bytearray()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.connect((host, port))
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
