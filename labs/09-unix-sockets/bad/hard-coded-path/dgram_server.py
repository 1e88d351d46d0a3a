"""Lab 9 reference: the length server on a Unix datagram socket.

Usage: python3 dgram_server.py [PATH]   (default /scratch/dgram.sock)
"""

from __future__ import annotations

import socket

import socketfile

PATH = "/scratch/dgram.sock"
LARGEST = 8192  # the protocol's largest datagram: a smaller buffer would cut the rest off


def answer(message: bytes) -> bytes:
    return f"{len(message)} ".encode() + message


def main() -> None:
    path = PATH  # the argument is never read
    socketfile.exit_on_sigterm()
    with socketfile.claimed(path, socket.SOCK_DGRAM) as sock:
        print(f"serving on {path}", flush=True)
        while True:
            message, sender = sock.recvfrom(LARGEST)  # b"" is an empty datagram, not the end
            if sender is None:  # an unbound client has no address to answer to
                print("a datagram from an unbound socket: no reply possible", flush=True)
                continue
            try:
                sock.sendto(answer(message), sender)
            except OSError as exc:  # the sender is gone; the next one must still be served
                print(f"cannot reply to {sender}: {exc}", flush=True)


if __name__ == "__main__":
    main()
