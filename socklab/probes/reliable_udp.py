"""Lab 8's hand inside the server container: a receiver that goes away. Stdlib only,
prints JSON.

  reliable_udp.py vanish --port P --fin N [--timeout S]

``vanish`` binds UDP port P, prints ``{"listening": P}``, and receives a file as the
README's receiver does: it answers every intact data packet with the cumulative ACK
(packets ahead of a gap kept), to the address it came from. When the intact FIN numbered
N comes with every packet before it, it closes its socket without acknowledging the FIN,
and ends: the kernel answers the FINs sent again with ICMP "port unreachable", as it does
for a receiver that has left. It prints what it received, and when the FIN came
(``time.time()``), or that no FIN came: by ``--timeout`` seconds, or by a line or the
end on its stdin (the checker's word that the sender has exited).
"""

from __future__ import annotations

import argparse
import json
import selectors
import socket
import struct
import sys
import time
import zlib

HEADER = struct.Struct("!IcIH")  # the README's header: crc, kind, seq, length


def parse(packet: bytes) -> tuple[bytes, int] | None:
    """(kind, seq) of an intact packet of the lab's format; None for a damaged one."""
    if len(packet) < HEADER.size:
        return None
    crc, kind, seq, length = HEADER.unpack_from(packet)
    if zlib.crc32(packet[4:]) != crc or length != len(packet) - HEADER.size:
        return None
    return kind, seq


def ack(wanted: int) -> bytes:
    rest = HEADER.pack(0, b"A", wanted, 0)[4:]
    return zlib.crc32(rest).to_bytes(4, "big") + rest


def vanish(args: argparse.Namespace) -> dict:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.bind(("", args.port))
    except OSError:
        print(json.dumps({"in_use": args.port}), flush=True)
        sys.exit(1)
    print(json.dumps({"listening": args.port}), flush=True)
    sel = selectors.DefaultSelector()
    sel.register(sock, selectors.EVENT_READ)
    sel.register(sys.stdin, selectors.EVENT_READ)
    have: set[int] = set()
    wanted, data, damaged, fin_at = 0, 0, 0, None
    deadline = time.monotonic() + args.timeout
    while (left := deadline - time.monotonic()) > 0:
        ready = [key.fileobj for key, _ in sel.select(left)]
        if sys.stdin in ready:
            break
        if sock not in ready:
            continue
        packet, sender = sock.recvfrom(65535)
        got = parse(packet)
        if got is None:
            damaged += 1
        elif got == (b"F", args.fin) and wanted == args.fin:
            sel.unregister(sock)
            sock.close()  # no ACK: from now on its port is closed
            fin_at = time.time()
            break
        elif got[0] == b"D" and got[1] < args.fin:
            data += 1
            have.add(got[1])
            while wanted in have:
                wanted += 1
            sock.sendto(ack(wanted), sender)
    return {"data": data, "wanted": wanted, "damaged": damaged, "fin_at": fin_at}


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("vanish")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--fin", type=int, required=True)
    p.add_argument("--timeout", type=float, default=30.0)
    args = parser.parse_args()
    print(json.dumps(vanish(args)), flush=True)


if __name__ == "__main__":
    main()
