"""Lab 1: a TCP echo server. Usage: python3 server.py [PORT]

Read the lab's README.md first. Replace each TODO with the socket calls it names.
"""

import socket
import sys


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # TODO: bind the socket to ("", port), then listen().
    # TODO: loop forever: accept() a client; recv() what it sends and sendall() it back,
    #       until recv() returns b"" (the client closed); then close that connection.
    print(f"server not written yet (port {port})", flush=True)
    listener.close()


if __name__ == "__main__":
    main()
