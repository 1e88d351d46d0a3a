"""Lab 3, known wrong: the server answers but never closes the connection.

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
        clients = []  # kept "for later": their connections are never closed
        while True:
            conn, _ = listener.accept()
            clients.append(conn)
            request = bytearray()
            while chunk := conn.recv(65536):
                request += chunk
            conn.sendall(answer(request))


if __name__ == "__main__":
    main()
