"""Lab 5, known wrong: a selector loop that sends with a blocking sendall().

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
                try:
                    data = conn.recv(65536)
                    # The mistake: sendall() on a blocking socket waits until the client
                    # has read enough. A client that never reads stops the whole loop here.
                    conn.sendall(data)
                except ConnectionError:
                    data = b""
                if not data:
                    sel.unregister(conn)
                    conn.close()


if __name__ == "__main__":
    main()
