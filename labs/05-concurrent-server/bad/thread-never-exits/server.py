"""Lab 5, known wrong: a thread per client that never ends, holding its socket forever.

Usage: python3 server.py [PORT]
"""

import socket
import sys
import threading


def serve(conn: socket.socket) -> None:
    # The mistake: recv() returning b"" (the client has gone) is not a reason to stop here,
    # so the thread spins on, and the socket is never closed.
    try:
        while True:
            data = conn.recv(65536)
            if data:
                conn.sendall(data)
    except ConnectionError:
        conn.close()


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("", port))
        listener.listen()
        print(f"listening on port {port}", flush=True)
        while True:
            conn, _ = listener.accept()
            threading.Thread(target=serve, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
