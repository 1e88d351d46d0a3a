"""Hostile: LIST gets '200 OK' and an endless body; any other command an endless line."""

import socket
import sys
import threading


def serve(conn: socket.socket) -> None:
    block = b"\xcd" * 65536
    try:
        command = conn.recv(4096)
        if command.startswith(b"LIST"):
            conn.sendall(b"200 OK 1000000000000000\n")
        while True:  # the body the size announced, or a reply line that never ends
            conn.sendall(block)
    except OSError:
        conn.close()


if __name__ == "__main__":
    with socket.create_server(("", int(sys.argv[1]))) as listener:
        while True:
            conn, _ = listener.accept()
            threading.Thread(target=serve, args=(conn,), daemon=True).start()
