"""Known wrong: 3 s of silence taken for the end of the request."""

import hashlib
import socket
import sys


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    with socket.socket() as ls:
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("", port))
        ls.listen()
        while True:
            conn, _ = ls.accept()
            conn.settimeout(3.0)  # a client silent for 3 s has said all it will say
            with conn:
                try:
                    req = b""
                    while True:
                        try:
                            chunk = conn.recv(4096)
                        except TimeoutError:
                            break
                        if not chunk:
                            break
                        req += chunk
                    conn.sendall(f"{len(req)} {hashlib.sha256(req).hexdigest()}\n".encode())
                except OSError:
                    pass

main()
