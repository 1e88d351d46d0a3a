"""Lab 5, known wrong: non-blocking sockets polled in a loop that never waits.

Usage: python3 server.py [PORT]
"""

import socket
import sys


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("", port))
        listener.listen()
        listener.setblocking(False)
        print(f"listening on port {port}", flush=True)
        clients: list[socket.socket] = []
        # The mistake: nothing here ever waits. With nothing to do, the loop asks every
        # socket "anything?" millions of times a second and burns a whole CPU.
        while True:
            try:
                conn, _ = listener.accept()
                conn.setblocking(True)
                conn.settimeout(0)
                clients.append(conn)
            except BlockingIOError:
                pass
            for conn in list(clients):
                try:
                    data = conn.recv(65536)
                except BlockingIOError:
                    continue
                except ConnectionError:
                    data = b""
                if data:
                    conn.settimeout(None)  # blocking while it sends, to keep the echo whole
                    conn.sendall(data)
                    conn.settimeout(0)
                else:
                    clients.remove(conn)
                    conn.close()


if __name__ == "__main__":
    main()
