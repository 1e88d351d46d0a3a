"""Lab 8: the packet format both ends speak. sender.py and receiver.py import it.

Read the lab's README.md first (section "The packets"). Replace each TODO with the code
it describes.

Every packet is an 11-byte header, then the payload (data packets only):

    crc (4 bytes)   CRC-32 (zlib.crc32) of every byte after this field
    kind (1 byte)   b"D" data, b"A" acknowledgement, b"F" end of file
    seq (4 bytes)   D and F: the packet's number; A: the number of the next packet wanted
    length (2)      the payload's length, 0 to MAX_PAYLOAD

All numbers are unsigned, big-endian (network byte order).
"""

import struct
import zlib  # noqa: F401 (yours to use: zlib.crc32)

HEADER = struct.Struct("!IcIH")  # crc, kind, seq, length
MAX_PAYLOAD = 1024
DATA, ACK, FIN = b"D", b"A", b"F"


def pack(kind: bytes, seq: int, payload: bytes = b"") -> bytes:
    # TODO: the body is kind, seq and length (struct.pack("!cIH", ...)) followed by the
    #       payload; return the body's zlib.crc32() as 4 big-endian bytes, then the body.
    raise NotImplementedError("pack() is not written yet")


def unpack(packet: bytes) -> tuple[bytes, int, bytes] | None:
    """(kind, seq, payload) of a sound packet; None for a damaged or malformed one."""
    # TODO: None if the packet is shorter than HEADER.size. HEADER.unpack_from() the header;
    #       None unless zlib.crc32(packet[4:]) equals the crc field (the router damages
    #       packets in ways the UDP checksum cannot see: this is the only check that can),
    #       unless the kind is one of DATA, ACK, FIN, and unless length is the number of
    #       bytes after the header. Else return kind, seq and the payload.
    raise NotImplementedError("unpack() is not written yet")
