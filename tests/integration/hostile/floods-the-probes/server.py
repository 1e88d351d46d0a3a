"""Hostile: every connection gets an endless stream back, whatever it sends."""

import socket
import sys
import threading

BLOCK = b"\xab" * 65536


def drain(conn: socket.socket) -> None:
    try:
        while conn.recv(65536):
            pass
    except OSError:
        pass


def flood(conn: socket.socket) -> None:
    threading.Thread(target=drain, args=(conn,), daemon=True).start()
    try:
        while True:
            conn.sendall(BLOCK)
    except OSError:
        conn.close()


if __name__ == "__main__":
    with socket.create_server(("", int(sys.argv[1]))) as listener:
        while True:
            conn, _ = listener.accept()
            threading.Thread(target=flood, args=(conn,), daemon=True).start()
