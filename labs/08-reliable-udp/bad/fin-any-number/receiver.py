"""Lab 8 reference: receive a file sent reliably over UDP.

Usage: python3 receiver.py PORT OUTFILE

Writes the data packets to OUTFILE in order, each once, and acknowledges every packet
it gets; after the end-of-file packet it stays a moment to answer a FIN sent again.
"""

import socket
import sys
from collections import Counter
from typing import BinaryIO

from rdt import ACK, DATA, FIN, pack, unpack

LINGER = 1.0  # after the FIN: exit once no packet came for this long


def receive(sock: socket.socket, out: BinaryIO, count: Counter[str]) -> tuple[int, tuple]:
    """Write the data in order until the FIN; return the FIN's number and the sender."""
    expected = 0  # every packet before it is written
    early: dict[int, bytes] = {}  # packets that came before their turn, by number
    while True:
        packet, peer = sock.recvfrom(65535)
        parsed = unpack(packet)
        if parsed is None:
            count["damaged"] += 1  # as if lost: the sender will send it again
            continue
        kind, seq, payload = parsed
        if kind == DATA and seq >= expected and seq not in early:
            early[seq] = payload
            while expected in early:
                out.write(early.pop(expected))
                expected += 1
        elif kind == DATA:
            count["duplicates"] += 1  # written already (or waiting): its ACK was lost, or a copy
        elif kind == FIN:
            seq = expected
            return seq, peer
        sock.sendto(pack(ACK, expected), peer)  # cumulative: all before `expected` arrived


def linger(sock: socket.socket, fin: int) -> None:
    """Answer a repeated FIN (our ACK may have been lost) until the sender falls silent."""
    sock.settimeout(LINGER)
    while True:
        try:
            packet, peer = sock.recvfrom(65535)
        except TimeoutError:
            return
        parsed = unpack(packet)
        if parsed is not None and parsed[0] == FIN:
            sock.sendto(pack(ACK, fin + 1), peer)


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
        print(f"{fin} packets written to {path}; {count['duplicates']} duplicates and "
              f"{count['damaged']} damaged packets dropped", flush=True)
        linger(sock, fin)


if __name__ == "__main__":
    main()
