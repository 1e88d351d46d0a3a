"""Known wrong: the packet format without the check of its CRC-32 (the UDP checksum is
trusted to catch damage, and here it cannot)."""

import struct
import zlib

HEADER = struct.Struct("!IcIH")  # crc, kind, seq, length
MAX_PAYLOAD = 1024
DATA, ACK, FIN = b"D", b"A", b"F"


def pack(kind: bytes, seq: int, payload: bytes = b"") -> bytes:
    body = HEADER.pack(0, kind, seq, len(payload))[4:] + payload
    return zlib.crc32(body).to_bytes(4, "big") + body


def unpack(packet: bytes) -> tuple[bytes, int, bytes] | None:
    if len(packet) < HEADER.size:
        return None
    _, kind, seq, length = HEADER.unpack_from(packet)
    if kind not in (DATA, ACK, FIN) or length != len(packet) - HEADER.size:
        return None
    return kind, seq, packet[HEADER.size:]
