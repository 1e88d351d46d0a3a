"""Hostile: an echo client that prints its reply, then never exits and ignores SIGTERM."""

import os
import signal
import socket
import sys
import time

for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGPIPE):
    signal.signal(sig, signal.SIG_IGN)
if os.fork() == 0:
    os.setsid()
    while True:
        time.sleep(1)
host, port, message = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()
with socket.create_connection((host, port)) as sock:
    sock.sendall(message)
    reply = b""
    while len(reply) < len(message) and (chunk := sock.recv(65536)):
        reply += chunk
print(reply.decode(errors="replace"), flush=True)
while True:
    time.sleep(1)
