"""Known wrong: the receiver trusts every data packet to be new, and writes it.

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
    """Write each data packet as it comes until the FIN; return the FIN's number and the sender."""
    expected = 0
    while True:
        packet, peer = sock.recvfrom(65535)
        parsed = unpack(packet)
        if parsed is None:
            count["damaged"] += 1
            continue
        kind, seq, payload = parsed
        if kind == DATA:  # a copy, or a packet sent again after a lost ACK, is written again
            out.write(payload)
            expected = seq + 1
        elif kind == FIN and seq == expected:
            return seq, peer
        sock.sendto(pack(ACK, expected), peer)


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
