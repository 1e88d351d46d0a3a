"""Lab 8 receiver (stop-and-wait solution): recvfrom_into one buffer, a heap-free dict.

Datagrams land in one preallocated bytearray (``recvfrom_into``), so nothing is
allocated per packet that is dropped. Packets ahead of a gap wait in a dict. After the
FIN: close, acknowledge, and answer repeats until 1 s of silence.

Usage: python3 receiver.py PORT OUTFILE
"""

import socket
import sys

from rdt import ACK, DATA, FIN, pack, unpack

LINGER = 1.0


def receive(sock: socket.socket, out) -> tuple[int, tuple]:
    buf = bytearray(65536)  # any datagram fits whole: a longer one is damaged, not cut
    view = memoryview(buf)
    expected, ahead = 0, {}
    while True:
        n, peer = sock.recvfrom_into(buf)
        got = unpack(view[:n])
        if got is None:
            continue
        kind, seq, payload = got
        if kind == FIN and seq == expected:
            return seq, peer
        if kind == DATA and seq >= expected and seq not in ahead:
            ahead[seq] = bytes(payload)  # a copy: unpack() may return a view of buf
            while expected in ahead:
                out.write(ahead.pop(expected))
                expected += 1
        sock.sendto(pack(ACK, expected), peer)


def main() -> None:
    port, path = int(sys.argv[1]), sys.argv[2]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("0.0.0.0", port))
        with open(path, "wb") as out:
            fin, peer = receive(sock, out)
        reply = pack(ACK, fin + 1)
        sock.sendto(reply, peer)
        sock.settimeout(LINGER)
        while True:
            try:
                raw, peer = sock.recvfrom(2048)
            except TimeoutError:
                return
            got = unpack(raw)
            if got and got[0] == FIN:
                sock.sendto(reply, peer)


if __name__ == "__main__":
    main()
