"""Known wrong: reads each reply with one recv(), as if it arrived in one piece."""

import socket
import sys

from framing import HEADER, send_frame

host, port = sys.argv[1], int(sys.argv[2])
with socket.create_connection((host, port)) as sock:
    for message in sys.argv[3:]:
        send_frame(sock, b"M", message.encode())
        data = sock.recv(65536)
        kind, length = HEADER.unpack(data[:HEADER.size])
        print(data[HEADER.size:HEADER.size + length].decode(errors="replace"), flush=True)
