"""Hostile: take every TCP port from 1024 up, so the checker's own servers cannot listen."""

import os
import resource
import socket
import sys
import time

PORT = int(sys.argv[1])
PORTS = [p for p in range(1024, 65536) if p != PORT]
BINDERS = 4


def bind_all(ports: list[int]) -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    held, failed = [], 0
    for port in ports:
        try:
            sock = socket.socket()
            sock.bind(("", port))  # no SO_REUSEADDR: nobody else may share it
            sock.listen(1)
            held.append(sock)
        except OSError:
            failed += 1
    print(f"bound {len(held)} of {len(ports)} ports ({failed} failed)", flush=True)
    while True:
        time.sleep(60)


def echo(listener: socket.socket) -> None:
    while True:
        conn, _ = listener.accept()
        with conn:
            try:
                while data := conn.recv(65536):
                    conn.sendall(data)
            except OSError:
                pass


if __name__ == "__main__":
    listener = socket.create_server(("", PORT))
    for i in range(BINDERS):
        if os.fork() == 0:
            listener.close()
            bind_all(PORTS[i::BINDERS])
    echo(listener)
