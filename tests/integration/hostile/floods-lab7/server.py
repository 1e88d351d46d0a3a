"""Hostile: every request gets a '200 OK' head and a body without end; never closes."""

import socket
import sys
import threading

HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n"


def serve(conn: socket.socket) -> None:
    block = b"<p>" + b"\xef" * 65530 + b"</p>"
    try:
        conn.recv(65536)  # the request, or its first piece: the answer starts anyway
        conn.sendall(HEAD)
        while True:
            conn.sendall(block)
    except OSError:
        conn.close()


if __name__ == "__main__":
    with socket.create_server(("", int(sys.argv[1]))) as listener:
        while True:
            conn, _ = listener.accept()
            threading.Thread(target=serve, args=(conn,), daemon=True).start()
