"""Lab 1: a client reading through ``socket.makefile``."""

import socket
import sys


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    message = (sys.argv[3] + "\n").encode()
    with socket.create_connection((host, port)) as sock:
        sock.sendall(message)
        with sock.makefile("rb") as stream:
            reply = stream.read(len(message)) if message else b""
    sys.stdout.buffer.write(reply)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
