"""Lab 5: a concurrent echo server on a pool of threads."""

import socket
import sys
from concurrent.futures import ThreadPoolExecutor


def serve(conn: socket.socket) -> None:
    with conn:
        try:
            while data := conn.recv(16384):
                conn.sendall(data)
        except ConnectionError:
            pass


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("", port))
    listener.listen(128)
    print(f"listening on port {port}", flush=True)
    with ThreadPoolExecutor() as pool:  # threads are reused, not created per client
        while True:
            conn, _ = listener.accept()
            pool.submit(serve, conn)


if __name__ == "__main__":
    main()
