"""Known wrong: a server that echoes data.strip()."""

import socket
import sys

port = int(sys.argv[1])
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("", port))
while True:
    data, addr = sock.recvfrom(65535)
    message = data.strip()          # tidy up stray whitespace around the message
    sock.sendto(message, addr)
