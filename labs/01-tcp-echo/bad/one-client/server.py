"""Known wrong: serves one client, then returns instead of accepting the next."""

import socket
import sys

port = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("", port))
    listener.listen()
    conn, _ = listener.accept()
    with conn:
        while data := conn.recv(65536):
            conn.sendall(data)
