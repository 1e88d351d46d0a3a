"""Hostile: a sender that floods the receiver with copies of its first data packet for a
few seconds, as fast as one CPU sends (a go-back-N whose timeout is zero does the same),
then exits 0."""

import contextlib
import socket
import sys
import time

from rdt import DATA, pack

SECONDS = 8.0


def main() -> None:
    host, port, path = sys.argv[3], int(sys.argv[4]), sys.argv[5]
    with open(path, "rb") as f:
        first = f.read(1024)
    packet = pack(DATA, 0, first)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.connect((host, port))
        sock.setblocking(False)
        end = time.monotonic() + SECONDS
        while time.monotonic() < end:
            for _ in range(256):
                with contextlib.suppress(OSError):  # the queue is full, or the port refused
                    sock.send(packet)


if __name__ == "__main__":
    main()
