"""Known wrong: copies are dropped, but packets are written in the order they arrive.

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
    """Write each new data packet as it comes until the FIN; return its number and the sender."""
    seen: set[int] = set()
    while True:
        packet, peer = sock.recvfrom(65535)
        parsed = unpack(packet)
        if parsed is None:
            count["damaged"] += 1
            continue
        kind, seq, payload = parsed
        if kind == DATA and seq not in seen:  # copies are dropped, but the order is arrival's
            seen.add(seq)
            out.write(payload)
        elif kind == FIN and seen == set(range(seq)):
            return seq, peer
        expected = next(n for n in range(len(seen) + 1) if n not in seen)
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
