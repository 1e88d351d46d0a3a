"""Known wrong: strips the trailing newline of MESSAGE."""

import socket
import sys


def main() -> None:
    host, port, message = sys.argv[1], int(sys.argv[2]), sys.argv[3].rstrip("\n").encode()  # no stray newline
    with socket.create_connection((host, port)) as sock:
        sock.sendall(message)
        sock.shutdown(socket.SHUT_WR)  # our FIN: the request is complete; we can still read
        reply = bytearray()
        while chunk := sock.recv(65536):  # b"": the server's FIN, the reply is complete
            reply += chunk
    sys.stdout.write(reply.decode(errors="replace"))


if __name__ == "__main__":
    main()
