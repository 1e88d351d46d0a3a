"""Known wrong: connect()s its socket to the first client, so it hears no other client."""

import socket
import sys

port = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
    sock.bind(("", port))
    data, peer = sock.recvfrom(65535)
    sock.connect(peer)  # from now on the kernel drops datagrams from anyone else
    while True:
        sock.send(data)
        try:
            data = sock.recv(65535)
        except ConnectionRefusedError:  # the client went away; wait for it to come back
            data = b""
