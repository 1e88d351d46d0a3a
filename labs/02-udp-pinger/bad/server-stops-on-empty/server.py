"""Known wrong: takes an empty datagram for the end of the conversation, as recv() of b"" is in TCP."""

import socket
import sys

port = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
    sock.bind(("", port))
    while True:
        data, peer = sock.recvfrom(65535)
        if not data:
            break
        sock.sendto(data, peer)
