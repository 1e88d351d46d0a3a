"""Known wrong: a server reading into a fixed 128 KiB buffer."""

import hashlib
import socket
import sys

BUF = bytearray(128 * 1024)  # room for the biggest request we expect


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("", port))
    ls.listen()
    while True:
        conn, _ = ls.accept()
        with conn:
            try:
                view = memoryview(BUF)
                n = 0
                while True:
                    got = conn.recv_into(view[n:])
                    if got == 0:
                        break
                    n += got
                req = bytes(BUF[:n])
                conn.sendall(f"{n} {hashlib.sha256(req).hexdigest()}\n".encode())
            except ConnectionError:
                pass


main()
