"""Hostile: try to rewire the client container's network, then do the client's job."""

import socket
import sys

from meddle import meddle

meddle()
host, port, message = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()
with socket.create_connection((host, port)) as sock:
    sock.sendall(message)
    reply = b""
    while len(reply) < len(message) and (chunk := sock.recv(65536)):
        reply += chunk
print(reply.decode(errors="replace"), flush=True)
