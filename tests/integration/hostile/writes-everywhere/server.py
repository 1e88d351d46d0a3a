"""Hostile: try to write results, code, probes and host paths, then echo as it should."""

import socket
import sys

from scribble import scribble


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
    scribble()
    echo(int(sys.argv[1]))
