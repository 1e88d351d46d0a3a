"""Hostile: reads each request to EOF, then answers with a reply without end."""

import socket
import sys
import threading


def answer(conn: socket.socket) -> None:
    reply = b"0 " + b"f" * 65534
    try:
        while conn.recv(65536):  # the request, to the client's FIN
            pass
        while True:
            conn.sendall(reply)
    except OSError:
        conn.close()


if __name__ == "__main__":
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("", int(sys.argv[1])))
    listener.listen()
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=answer, args=(conn,), daemon=True).start()
