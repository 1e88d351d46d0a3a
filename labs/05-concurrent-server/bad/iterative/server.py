"""Lab 5, known wrong: a big listen() backlog, but clients are still served one at a time.

Usage: python3 server.py [PORT]
"""

import socket
import sys


def serve(conn: socket.socket) -> None:
    while data := conn.recv(65536):
        conn.sendall(data)


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("", port))
        listener.listen(64)  # the wrong idea: "64 clients can connect, so 64 are served at once"
        print(f"listening on port {port}", flush=True)
        while True:
            conn, (host, peer_port) = listener.accept()
            with conn:
                try:
                    serve(conn)
                except ConnectionError as exc:
                    print(f"client {host}:{peer_port} dropped: {exc}", flush=True)


if __name__ == "__main__":
    main()
