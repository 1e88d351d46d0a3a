"""Known wrong: a client that strips the reply it prints."""

import socket
import sys


def main():
    host, port, msg = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()
    with socket.create_connection((host, port)) as sock:
        sock.sendall(msg)
        parts = []
        got = 0
        while got < len(msg):
            piece = sock.recv(2048)
            if not piece:
                break
            parts.append(piece)
            got += len(piece)
    print(b"".join(parts).decode().strip())

main()
