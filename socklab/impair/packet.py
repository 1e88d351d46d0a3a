"""IPv4, TCP and UDP headers: parse a packet's summary, recompute checksums, flip bits."""

from __future__ import annotations

import dataclasses
import functools
import socket
import struct
import sys

from socklab.impair.model import TCP, UDP, Corrupt, Decision, Packet, new_tuple

_IP = struct.Struct("!BBHHHBBH8s")  # ... protocol, checksum, then both addresses together
_PORTS = struct.Struct("!HH")
_TCP = struct.Struct("!HHIIBB")
_SWAP = sys.byteorder == "little"


@functools.lru_cache(maxsize=1024)
def _addresses(raw: bytes) -> tuple[str, str]:
    """Source and destination as text: one cache lookup per packet for both."""
    return socket.inet_ntoa(raw[:4]), socket.inet_ntoa(raw[4:])


def parse(data: bytes, direction: str) -> Packet:
    """Summarize an IPv4 packet; raise ValueError if it is not one."""
    if len(data) < 20:
        raise ValueError(f"an IPv4 packet has at least 20 bytes, not {len(data)}")
    vihl, _tos, total, _id, frag, _ttl, proto, _csum, hosts = _IP.unpack_from(data)
    if vihl >> 4 != 4:
        raise ValueError(f"IP version must be 4, not {vihl >> 4}")
    ihl = (vihl & 0x0F) * 4
    size = min(total, len(data))
    src, dst = _addresses(hosts)
    if frag & 0x1FFF:  # a later fragment: no L4 header to read
        return Packet(direction, proto, src, dst, 0, 0, size, 0, 0, 0, size - ihl, ihl)
    if proto == TCP and size >= ihl + 20:  # the common case, built the quick way
        sport, dport, seq, ack, off, flags = _TCP.unpack_from(data, ihl)
        at = ihl + (off >> 4) * 4
        return new_tuple(
            Packet,
            (direction, proto, src, dst, sport, dport, size, seq, ack, flags & 0x3F, max(size - at, 0), at),
        )
    if proto == UDP and size >= ihl + 8:
        sport, dport = _PORTS.unpack_from(data, ihl)
        return new_tuple(
            Packet, (direction, proto, src, dst, sport, dport, size, 0, 0, 0, size - ihl - 8, ihl + 8)
        )
    return Packet(direction, proto, src, dst, 0, 0, size, 0, 0, 0, size - ihl, ihl)


def checksum(data: bytes | bytearray | memoryview) -> int:
    """The Internet checksum (RFC 1071) of ``data``, as the value to store in a header."""
    if len(data) % 2:
        data = bytes(data) + b"\0"
    # The ones' complement sum is byte-order independent: sum native words, swap at the end.
    total = sum(memoryview(data).cast("H"))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    total = ~total & 0xFFFF
    return ((total >> 8) | (total << 8)) & 0xFFFF if _SWAP else total


def _l4_span(buf: bytes | bytearray) -> tuple[int, int, int, int]:
    """(protocol, IP header length, L4 start offset of the checksum field, total length)."""
    ihl = (buf[0] & 0x0F) * 4
    total = min(struct.unpack_from("!H", buf, 2)[0], len(buf))
    proto = buf[9]
    field = {TCP: 16, UDP: 6}.get(proto)
    if field is None or struct.unpack_from("!H", buf, 6)[0] & 0x1FFF:
        return proto, ihl, -1, total
    return proto, ihl, ihl + field, total


def l4_checksum(buf: bytes | bytearray) -> int | None:
    """The TCP or UDP checksum ``buf`` should carry; None for other protocols or fragments."""
    proto, ihl, at, total = _l4_span(buf)
    if at < 0 or struct.unpack_from("!H", buf, 6)[0] & 0x2000:  # more fragments follow
        return None
    segment = bytearray(buf[ihl:total])
    segment[at - ihl : at - ihl + 2] = b"\0\0"
    pseudo = bytes(buf[12:20]) + struct.pack("!BBH", 0, proto, len(segment))
    value = checksum(pseudo + segment)
    return 0xFFFF if proto == UDP and value == 0 else value  # UDP: 0 means "no checksum"


def ip_checksum(buf: bytes | bytearray) -> int:
    """The IP header checksum ``buf`` should carry."""
    ihl = (buf[0] & 0x0F) * 4
    header = bytearray(buf[:ihl])
    header[10:12] = b"\0\0"
    return checksum(header)


def checksums_ok(buf: bytes | bytearray) -> bool:
    """Do the IP header checksum and the TCP/UDP checksum (if any, and not 0 for UDP) hold?"""
    if struct.unpack_from("!H", buf, 10)[0] != ip_checksum(buf):
        return False
    proto, _ihl, at, _total = _l4_span(buf)
    expected = l4_checksum(buf)
    if expected is None:
        return True
    stored = struct.unpack_from("!H", buf, at)[0]
    return (proto == UDP and stored == 0) or stored == expected


def fix_checksums(buf: bytearray) -> None:
    """Recompute the IP header checksum and the TCP/UDP checksum in place.

    A UDP checksum of 0 (the sender computed none) stays 0.
    """
    struct.pack_into("!H", buf, 10, ip_checksum(buf))
    proto, _ihl, at, _total = _l4_span(buf)
    expected = l4_checksum(buf)
    if expected is None or (proto == UDP and struct.unpack_from("!H", buf, at)[0] == 0):
        return
    struct.pack_into("!H", buf, at, expected)


def no_checksum(data: bytes | bytearray) -> bool:
    """Is this a UDP datagram (its first fragment) whose sender computed no checksum (0)?"""
    return (
        len(data) >= 20
        and data[9] == UDP
        and not struct.unpack_from("!H", data, 6)[0] & 0x1FFF
        and len(data) >= (at := (data[0] & 0x0F) * 4 + 8)
        and data[at - 2] == data[at - 1] == 0
    )


def as_received(decision: Decision, data: bytes) -> Decision:
    """The decision as the receiver will meet it: a corruption meant to be detected, of a
    datagram that carries no checksum, is marked undetectable (no kernel can see it)."""
    if not no_checksum(data):
        return decision
    return tuple(
        dataclasses.replace(v, detected=False, undetectable=True) if type(v) is Corrupt and v.detected else v
        for v in decision
    )


def corrupt(data: bytes, offset: int, bit: int, detected: bool) -> bytes:
    """Flip one bit; when not ``detected``, fix the checksums so no receiver can tell."""
    if not 0 <= offset < len(data):
        raise ValueError(f"offset must be within the packet's {len(data)} bytes, not {offset}")
    if not 0 <= bit < 8:
        raise ValueError(f"bit must be between 0 and 7, not {bit}")
    buf = bytearray(data)
    buf[offset] ^= 1 << bit
    if not detected:
        fix_checksums(buf)
    return bytes(buf)
