"""Known wrong: a client with a 2 s timeout taken for the end of the reply."""

import socket
import sys

host, port, message = sys.argv[1], int(sys.argv[2]), sys.argv[3]
sock = socket.create_connection((host, port))
sock.sendall(message.encode("utf-8"))
sock.shutdown(socket.SHUT_WR)
sock.settimeout(2.0)  # don't hang forever on a server that never closes
reply = b""
while True:
    try:
        chunk = sock.recv(4096)
    except TimeoutError:
        break
    if not chunk:
        break
    reply += chunk
sock.close()
sys.stdout.buffer.write(reply)
