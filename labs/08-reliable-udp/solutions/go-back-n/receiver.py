"""Lab 8 receiver (go-back-N solution): blocking recvfrom, a dict of early packets.

Every sound data packet is answered with a cumulative ACK; packets ahead of a gap wait
in a dict until the gap is filled. The FIN is taken only when it is the next number;
then the file is closed, the FIN acknowledged, and the receiver lingers, answering
every packet, until 1 s passes in silence.

Usage: python3 receiver.py PORT OUTFILE
"""

import socket
import sys

from rdt import ACK, DATA, FIN, pack, unpack

LINGER = 1.0


def main() -> None:
    port, path = int(sys.argv[1]), sys.argv[2]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("", port))
    expected, early = 0, {}
    with open(path, "wb") as out:
        while True:
            raw, peer = sock.recvfrom(2048)
            got = unpack(raw)
            if got is None:
                continue
            kind, seq, payload = got
            if kind == DATA:
                if seq == expected:
                    out.write(payload)
                    expected += 1
                    while expected in early:
                        out.write(early.pop(expected))
                        expected += 1
                elif seq > expected:
                    early.setdefault(seq, payload)
            elif kind == FIN and seq == expected:
                break
            sock.sendto(pack(ACK, expected), peer)
    sock.sendto(pack(ACK, expected + 1), peer)
    sock.settimeout(LINGER)
    while True:
        try:
            raw, peer = sock.recvfrom(2048)
        except TimeoutError:
            break
        got = unpack(raw)
        if got is not None and got[0] == FIN:
            sock.sendto(pack(ACK, expected + 1), peer)
    sock.close()


if __name__ == "__main__":
    main()
