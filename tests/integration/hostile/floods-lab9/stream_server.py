"""Hostile: every connection to the Unix socket gets bytes without end, never a newline."""

import os
import socket
import sys
import threading


def pour(conn: socket.socket) -> None:
    block = b"u" * 65536
    try:
        while True:
            conn.sendall(block)
    except OSError:
        conn.close()


if __name__ == "__main__":
    path = sys.argv[1]
    if os.path.exists(path):
        os.unlink(path)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    os.chmod(path, 0o666)
    listener.listen()
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=pour, args=(conn,), daemon=True).start()
