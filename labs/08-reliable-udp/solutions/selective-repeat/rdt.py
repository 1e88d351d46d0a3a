"""Lab 8 packet format (selective-repeat solution): struct.Struct, CRC over a memoryview."""

import struct
import zlib

HEADER = struct.Struct("!IcIH")
BODY = struct.Struct("!cIH")
MAX_PAYLOAD = 1024
DATA, ACK, FIN = b"D", b"A", b"F"


def pack(kind: bytes, seq: int, payload: bytes = b"") -> bytes:
    body = BODY.pack(kind, seq, len(payload)) + payload
    return struct.pack("!I", zlib.crc32(body)) + body


def unpack(packet: bytes) -> tuple[bytes, int, bytes] | None:
    """(kind, seq, payload) of a sound packet, None for anything damaged."""
    if len(packet) < HEADER.size:
        return None
    crc, kind, seq, length = HEADER.unpack_from(packet)
    view = memoryview(packet)
    if zlib.crc32(view[4:]) != crc or kind not in (DATA, ACK, FIN):
        return None
    if length != len(packet) - HEADER.size:
        return None
    return kind, seq, bytes(view[HEADER.size:])
