"""Lab 5: a concurrent echo server, one thread per client."""

import socket
import sys
import threading


def serve(conn: socket.socket, first: bytes) -> None:
    with conn:
        try:
            data = first
            while data:
                conn.sendall(data)
                data = conn.recv(16384)
        except ConnectionError:
            pass


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("", port))
    listener.listen(128)
    print(f"listening on port {port}", flush=True)
    while True:
        conn, peer = listener.accept()
        try:
            first = conn.recv(16384)  # log what each client opens with
        except ConnectionError:
            conn.close()
            continue
        print(f"client {peer} opened with {first[:20]!r}", flush=True)
        threading.Thread(target=serve, args=(conn, first), daemon=True).start()


if __name__ == "__main__":
    main()
