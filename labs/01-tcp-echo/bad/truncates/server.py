"""Known wrong: reads once with recv(1024), echoes that, and closes."""

import socket
import sys

port = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("", port))
    listener.listen()
    while True:
        conn, _ = listener.accept()
        with conn:
            conn.sendall(conn.recv(1024))
