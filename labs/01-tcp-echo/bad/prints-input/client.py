"""Known wrong: talks to the server but prints its own message, not the reply."""

import socket
import sys

host, port, message = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with socket.create_connection((host, port)) as sock:
    sock.sendall(message.encode())
    sock.recv(65536)
print(message)
