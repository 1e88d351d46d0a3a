"""Lab 9: the length server on a Unix datagram socket.

Usage: python3 dgram_server.py [PATH]   (default /scratch/dgram.sock)
Read the lab's README.md first. Replace each TODO.
"""

from __future__ import annotations

import socket
import sys

import socketfile

PATH = "/scratch/dgram.sock"
LARGEST = 8192  # the protocol's largest datagram


def answer(message: bytes) -> bytes:
    """The reply to one datagram: its length in bytes, a space, the datagram."""
    return f"{len(message)} ".encode() + message


def main() -> None:
    path = sys.argv[1] if len(sys.argv) > 1 else PATH
    socketfile.exit_on_sigterm()
    with socketfile.claimed(path, socket.SOCK_DGRAM) as sock:
        # TODO: forever: recvfrom() one datagram (a buffer of LARGEST bytes holds any of
        #       them) and sendto() its answer to the address recvfrom() returned. A reply
        #       that cannot be sent (OSError) must not stop the server.
        print(f"datagram server not written yet ({sock.getsockname()})", flush=True)


if __name__ == "__main__":
    main()
