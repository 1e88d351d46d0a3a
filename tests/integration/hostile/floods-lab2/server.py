"""Hostile: a UDP echo server that answers every datagram with copies of it, as fast as
one CPU sends, for 3 s (a reply loop that forgot to stop)."""

import contextlib
import socket
import sys
import time

SECONDS = 3.0


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("", port))
        print(f"listening on UDP port {port}", flush=True)
        while True:
            data, peer = sock.recvfrom(65535)
            end = time.monotonic() + SECONDS
            while time.monotonic() < end:
                for _ in range(256):
                    with contextlib.suppress(OSError):  # the queue is full
                        sock.sendto(data, peer)


if __name__ == "__main__":
    main()
