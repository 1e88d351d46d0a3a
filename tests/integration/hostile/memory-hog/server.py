"""Hostile: eat all the memory of the server container, next to a working echo server."""

import os
import socket
import sys

CHUNK = 16 << 20


def fill(folder: str) -> None:
    """tmpfs pages count as the container's memory and no OOM kill gives them back."""
    try:
        with open(os.path.join(folder, "hog.bin"), "wb") as out:
            while True:
                out.write(b"h" * CHUNK)
                out.flush()
    except OSError:
        pass  # the filesystem is full


def hog() -> None:
    held = []
    while True:
        held.append(b"m" * CHUNK)  # written, so really resident


def hogs_forever() -> None:
    fill("/scratch")
    fill("/tmp")
    while True:
        pid = os.fork()
        if pid == 0:
            hog()
        os.waitpid(pid, 0)  # killed by the OOM killer: start another


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
        hogs_forever()
    echo(int(sys.argv[1]))
