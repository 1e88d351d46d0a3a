"""Hostile: claim to pass, in every format; listen, but echo nothing."""

import socket
import sys

from fake import forge

if __name__ == "__main__":
    forge()
    with socket.create_server(("", int(sys.argv[1]))) as listener:
        while True:
            conn, _ = listener.accept()
            forge()
            conn.close()
