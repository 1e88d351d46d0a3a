"""Test helpers: real packet bytes, built with a reference checksum written the plain way."""

from __future__ import annotations

import socket
import struct

from socklab.impair.model import ACK, C2S, TCP, UDP, Packet


def ref_checksum(data: bytes) -> int:
    """RFC 1071 word by word, big-endian: independent of the engine's implementation."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ipv4(
    proto: int, src: str, dst: str, l4: bytes, csum_at: int | None = None, ttl: int = 63, ident: int = 1
) -> bytes:
    """An IPv4 packet around ``l4``; fills the L4 checksum at ``csum_at`` (offset in l4)."""
    s, d = socket.inet_aton(src), socket.inet_aton(dst)
    l4 = bytearray(l4)
    if csum_at is not None:
        pseudo = s + d + struct.pack("!BBH", 0, proto, len(l4))
        value = ref_checksum(pseudo + bytes(l4)) or (0xFFFF if proto == UDP else 0)
        struct.pack_into("!H", l4, csum_at, value)
    header = bytearray(
        struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), ident, 0x4000, ttl, proto, 0, s, d)
    )
    struct.pack_into("!H", header, 10, ref_checksum(bytes(header)))
    return bytes(header) + bytes(l4)


def tcp(
    src: str = "10.0.0.10",
    dst: str = "10.0.1.10",
    sport: int = 40000,
    dport: int = 5000,
    seq: int = 1000,
    ack: int = 2000,
    flags: int = ACK,
    payload: bytes = b"",
) -> bytes:
    l4 = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0)
    return ipv4(TCP, src, dst, l4 + payload, csum_at=16)


def udp(
    src: str = "10.0.0.10",
    dst: str = "10.0.1.10",
    sport: int = 40000,
    dport: int = 6000,
    payload: bytes = b"",
) -> bytes:
    l4 = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0)
    return ipv4(UDP, src, dst, l4 + payload, csum_at=6)


def pkt(
    direction: str = C2S,
    proto: int = UDP,
    sport: int = 40000,
    dport: int = 6000,
    length: int = 100,
    flags: int = 0,
    seq: int = 0,
) -> Packet:
    """A packet summary as the parser would give it (IPv4 + 8- or 20-byte L4 header)."""
    header = 28 if proto == UDP else 40
    src, dst = ("10.0.0.10", "10.0.1.10") if direction == C2S else ("10.0.1.10", "10.0.0.10")
    if direction != C2S:
        sport, dport = dport, sport
    return Packet(direction, proto, src, dst, sport, dport, header + length, seq, 0, flags, length, header)
