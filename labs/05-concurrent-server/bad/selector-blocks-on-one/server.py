"""Lab 5, known wrong: a selector loop that, once a client speaks, serves only it until it closes.

Usage: python3 server.py [PORT]
"""

import selectors
import socket
import sys


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    sel = selectors.DefaultSelector()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("", port))
        listener.listen()
        sel.register(listener, selectors.EVENT_READ)
        print(f"listening on port {port}", flush=True)
        while True:
            for key, _ in sel.select():
                if key.fileobj is listener:
                    conn, _ = listener.accept()
                    sel.register(conn, selectors.EVENT_READ)
                    continue
                conn = key.fileobj
                sel.unregister(conn)
                # The mistake: a blocking loop for this one client inside the event loop.
                # Until it closes, no other client is looked at.
                try:
                    while data := conn.recv(65536):
                        conn.sendall(data)
                except ConnectionError:
                    pass
                conn.close()


if __name__ == "__main__":
    main()
