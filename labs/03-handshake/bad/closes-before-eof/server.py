"""Lab 3, known wrong: the server answers the first recv() and closes, before the request ends.

Usage: python3 server.py [PORT]
"""

import hashlib
import socket
import sys


def answer(request: bytes) -> bytes:
    return f"{len(request)} {hashlib.sha256(request).hexdigest()}\n".encode()


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("", port))
        listener.listen()
        while True:
            conn, _ = listener.accept()
            with conn:
                try:
                    request = conn.recv(65536)  # one recv() is not the whole request
                    conn.sendall(answer(request))
                except ConnectionError:
                    pass


if __name__ == "__main__":
    main()
