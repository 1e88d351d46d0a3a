"""Lab 2: a UDP echo server. Usage: python3 server.py [PORT]

Read the lab's README.md first. Replace each TODO with the socket calls it names.
"""

import socket
import sys


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    # TODO: bind the socket to ("", port). There is no listen() or accept() in UDP.
    # TODO: loop forever: recvfrom() a datagram (up to 65535 bytes), then sendto() the same
    #       bytes back to the address recvfrom() gave you. An empty datagram is a message
    #       too: echo it, and keep serving.
    print(f"server not written yet (port {port})", flush=True)
    sock.close()


if __name__ == "__main__":
    main()
