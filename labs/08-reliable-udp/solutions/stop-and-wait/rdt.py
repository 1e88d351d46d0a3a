"""Lab 8 packet format (stop-and-wait solution): one struct for the whole header.

``pack_into`` a preallocated buffer would be faster; clarity wins here.
"""

import struct
import zlib

MAX_PAYLOAD = 1024
DATA, ACK, FIN = b"D", b"A", b"F"
_HEAD = struct.Struct(">IcIH")


def pack(kind: bytes, seq: int, payload: bytes = b"") -> bytes:
    rest = struct.pack(">cIH", kind, seq, len(payload)) + payload
    return struct.pack(">I", zlib.crc32(rest) & 0xFFFFFFFF) + rest


def unpack(packet) -> tuple[bytes, int, bytes] | None:
    """(kind, seq, payload) or None: a damaged packet is as good as a lost one."""
    packet = bytes(packet)
    try:
        crc, kind, seq, length = _HEAD.unpack_from(packet)
    except struct.error:
        return None
    ok = (crc == zlib.crc32(packet[4:]) and kind in (DATA, ACK, FIN)
          and length == len(packet) - _HEAD.size)
    return (kind, seq, packet[_HEAD.size:]) if ok else None
