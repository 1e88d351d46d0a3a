"""Hostile: streams without end at whatever it connects to, and never reads."""

import socket
import sys

if __name__ == "__main__":
    with socket.create_connection((sys.argv[1], int(sys.argv[2]))) as sock:
        while True:
            sock.sendall(b"\xcd" * 65536)
