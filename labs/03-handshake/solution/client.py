"""Lab 3 reference: send a request, half-close, read the reply to its end, print it.

Usage: python3 client.py HOST PORT MESSAGE
"""

import socket
import sys


def main() -> None:
    host, port, message = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()
    with socket.create_connection((host, port)) as sock:
        sock.sendall(message)
        sock.shutdown(socket.SHUT_WR)  # our FIN: the request is complete; we can still read
        reply = bytearray()
        while chunk := sock.recv(65536):  # b"": the server's FIN, the reply is complete
            reply += chunk
    sys.stdout.write(reply.decode(errors="replace"))


if __name__ == "__main__":
    main()
