"""Hostile: an echo server that ignores SIGTERM and friends and leaves a detached child behind."""

import os
import signal
import socket
import sys
import time


def deaf() -> None:
    for sig in (
        signal.SIGTERM,
        signal.SIGINT,
        signal.SIGHUP,
        signal.SIGQUIT,
        signal.SIGUSR1,
        signal.SIGUSR2,
        signal.SIGPIPE,
        signal.SIGTSTP,
        signal.SIGTTIN,
        signal.SIGTTOU,
    ):
        signal.signal(sig, signal.SIG_IGN)


def linger() -> None:
    """A child in a session of its own that outlives its parent."""
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            deaf()
            while True:
                time.sleep(1)
        os._exit(0)


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
    deaf()
    linger()
    echo(int(sys.argv[1]))
