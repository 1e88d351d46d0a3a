"""Hostile: an echo server with a thread that floods stdout without end."""

import socket
import sys
import threading

from flood import flood


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
    threading.Thread(target=flood, daemon=True).start()
    echo(int(sys.argv[1]))
