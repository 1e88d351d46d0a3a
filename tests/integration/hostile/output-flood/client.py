"""Hostile: an echo client that prints its reply, then floods stdout without end."""

import socket
import sys

from flood import flood

host, port, message = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()
with socket.create_connection((host, port)) as sock:
    sock.sendall(message)
    reply = b""
    while len(reply) < len(message) and (chunk := sock.recv(65536)):
        reply += chunk
print(reply.decode(errors="replace"), flush=True)
flood()
