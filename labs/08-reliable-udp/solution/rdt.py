"""Lab 8 reference: the packet format both ends speak.

Every packet is an 11-byte header, then the payload (data packets only):

    crc (4 bytes)   CRC-32 (zlib.crc32) of every byte after this field
    kind (1 byte)   b"D" data, b"A" acknowledgement, b"F" end of file
    seq (4 bytes)   D and F: the packet's number; A: the number of the next packet wanted
    length (2)      the payload's length, 0 to MAX_PAYLOAD

All numbers are unsigned, big-endian (network byte order).
"""

import struct
import zlib

HEADER = struct.Struct("!IcIH")  # crc, kind, seq, length
MAX_PAYLOAD = 1024
DATA, ACK, FIN = b"D", b"A", b"F"


def pack(kind: bytes, seq: int, payload: bytes = b"") -> bytes:
    body = HEADER.pack(0, kind, seq, len(payload))[4:] + payload
    return zlib.crc32(body).to_bytes(4, "big") + body


def unpack(packet: bytes) -> tuple[bytes, int, bytes] | None:
    """(kind, seq, payload) of a sound packet; None for a damaged or malformed one."""
    if len(packet) < HEADER.size:
        return None
    crc, kind, seq, length = HEADER.unpack_from(packet)
    # The UDP checksum missed this damage (the router fixes it up): only the CRC can tell.
    if zlib.crc32(packet[4:]) != crc:
        return None
    if kind not in (DATA, ACK, FIN) or length != len(packet) - HEADER.size:
        return None
    return kind, seq, packet[HEADER.size:]
