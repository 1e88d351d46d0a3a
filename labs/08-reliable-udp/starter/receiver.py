"""Lab 8: receive a file sent reliably over UDP.

Usage: python3 receiver.py PORT OUTFILE

Read the lab's README.md first. main() is written; receive() and linger() are yours.
"""

import socket
import sys
from collections import Counter
from typing import BinaryIO

from rdt import ACK, DATA, FIN, pack, unpack  # noqa: F401 (yours to use)

LINGER = 1.0  # after the FIN: exit once no packet came for this long


def receive(sock: socket.socket, out: BinaryIO, count: Counter[str]) -> tuple[int, tuple]:
    """Write the data in order until the FIN; return the FIN's number and the sender."""
    # TODO: keep `expected`, the number of the next packet to write (all before it are
    #       written). Loop: recvfrom(); unpack(); a damaged packet is as good as lost.
    #   - a data packet numbered `expected`: write it, and every packet kept for later
    #     that now follows in order; one numbered higher: keep it for later (a dict);
    #     one numbered lower, or one already kept: a copy -- write nothing;
    #   - the FIN numbered `expected` (every data packet is written): return its number
    #     and the sender's address;
    #   - after any other sound packet: sendto() the sender an ACK asking for `expected`.
    raise NotImplementedError("receive() is not written yet")


def linger(sock: socket.socket, fin: int) -> None:
    """Answer a repeated FIN (our ACK may have been lost) until the sender falls silent."""
    # TODO: settimeout(LINGER); answer every FIN with the ACK asking for fin + 1, until
    #       recvfrom() times out (TimeoutError): then return.
    raise NotImplementedError("linger() is not written yet")


def main() -> None:
    port, path = int(sys.argv[1]), sys.argv[2]
    count: Counter[str] = Counter()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("", port))
        print(f"listening on UDP port {port}", flush=True)
        with open(path, "wb") as out:
            fin, peer = receive(sock, out, count)
        # The file is whole and closed before the FIN is acknowledged.
        sock.sendto(pack(ACK, fin + 1), peer)
        print(f"{fin} packets written to {path}", flush=True)
        linger(sock, fin)


if __name__ == "__main__":
    main()
