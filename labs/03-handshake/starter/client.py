"""Lab 3: a client that sends a request, half-closes, and prints the whole reply.

Usage: python3 client.py HOST PORT MESSAGE
Read the lab's README.md first. Replace each TODO with the socket calls it names.
"""

import socket
import sys


def main() -> None:
    host, port, message = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()
    with socket.create_connection((host, port)) as sock:
        sock.sendall(message)
        # TODO: shutdown(socket.SHUT_WR): tell the server the request is complete (a FIN),
        #       while you can still read.
        # TODO: recv() until it returns b"" (the server's FIN), then write everything you
        #       received to stdout, exactly as it came (sys.stdout.write).
    print("client not written yet")


if __name__ == "__main__":
    main()
