"""Lab 1 alternative solution: a client reading through ``socket.makefile``.

Design: ``create_connection``, ``sendall``, then a buffered binary file over the socket:
``read(n)`` of a ``makefile("rb")`` blocks until it has n bytes or the stream ends, which
is exactly "as many bytes as sent, or the server closes". The reply is written to
stdout as raw bytes followed by a newline (no decoding at all).
"""

import socket
import sys


def main() -> None:
    host, port, message = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()
    with socket.create_connection((host, port)) as sock:
        sock.sendall(message)
        with sock.makefile("rb") as stream:
            reply = stream.read(len(message)) if message else b""
    sys.stdout.buffer.write(reply + b"\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
