"""Lab 8 packet format (go-back-N solution): header built with int.to_bytes, no struct.

crc (4) | kind (1) | seq (4) | length (2) | payload, all big-endian; the CRC-32 covers
bytes 4 to the end.
"""

import zlib

MAX_PAYLOAD = 1024
DATA, ACK, FIN = b"D", b"A", b"F"
HEADER_SIZE = 11


def pack(kind: bytes, seq: int, payload: bytes = b"") -> bytes:
    body = kind + seq.to_bytes(4, "big") + len(payload).to_bytes(2, "big") + payload
    return zlib.crc32(body).to_bytes(4, "big") + body


def unpack(packet: bytes) -> tuple[bytes, int, bytes] | None:
    """(kind, seq, payload), or None for a damaged packet."""
    if len(packet) < HEADER_SIZE:
        return None
    if int.from_bytes(packet[0:4], "big") != zlib.crc32(packet[4:]):
        return None
    kind = packet[4:5]
    seq = int.from_bytes(packet[5:9], "big")
    length = int.from_bytes(packet[9:11], "big")
    payload = packet[HEADER_SIZE:]
    if kind not in (DATA, ACK, FIN) or length != len(payload):
        return None
    if length > (MAX_PAYLOAD if kind == DATA else 0):
        return None
    return kind, seq, payload
