"""Lab 1: a client reading through ``socket.makefile``."""

import socket
import sys


def main() -> None:
    host, port, message = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()
    with socket.create_connection((host, port)) as sock:
        sock.sendall(message)
        with sock.makefile("rb") as stream:
            reply = stream.read()
    sys.stdout.buffer.write(reply + b"\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
