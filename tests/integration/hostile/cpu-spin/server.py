"""Hostile: spin all the CPUs there are, in many processes and threads, next to an echo server."""

import os
import socket
import sys
import threading


def spin() -> None:
    while True:
        pass


def spinner() -> None:
    for _ in range(8):
        threading.Thread(target=spin, daemon=True).start()
    spin()


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
    for _ in range(max(os.cpu_count() or 1, 8)):
        if os.fork() == 0:
            spinner()
    echo(int(sys.argv[1]))
