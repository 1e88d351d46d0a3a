"""Known wrong: a client that reads once before it counts, so an empty MESSAGE waits."""

import socket
import sys

host, port, message = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()
sock = socket.create_connection((host, port))
sock.sendall(message)
buf = bytearray(65536)
reply = bytearray()
while True:
    n = sock.recv_into(buf)
    if n == 0:
        break
    reply += buf[:n]
    if len(reply) >= len(message):
        break
sock.close()
print(reply.decode())
