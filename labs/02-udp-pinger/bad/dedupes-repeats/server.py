"""Known wrong: a server that skips a datagram equal to the previous one from its sender."""

import socket
import sys

port = int(sys.argv[1])
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("0.0.0.0", port))
last = {}
while True:
    data, addr = sock.recvfrom(65535)
    # a client that retransmits the very same datagram gets one echo, not two
    if last.get(addr) == data:
        continue
    last[addr] = data
    sock.sendto(data, addr)
