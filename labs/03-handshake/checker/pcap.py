"""The TCP segments of a capture taken on the router (socklab.checking.pcap reads it)."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from socklab.checking.pcap import TCP, IPv4, PcapError, ipv4

__all__ = ["Packet", "PcapError", "flag_text", "read"]

FLAG_LETTERS = (("F", 0x01), ("S", 0x02), ("R", 0x04), ("P", 0x08), ("U", 0x20), (".", 0x10))


@dataclass(frozen=True)
class Packet:
    """One TCP segment as captured: where, when, and its header fields."""

    t: float  # seconds (the capture's clock)
    outgoing: bool  # sent by the router (else received by it)
    src: str
    sport: int
    dst: str
    dport: int
    ip_id: int
    seq: int
    ack: int
    flags: str  # tcpdump's letters: S F R P U and "." for ACK
    length: int  # bytes of TCP payload on the wire
    payload: bytes  # as much of it as was captured
    options: bytes  # TCP options: their timestamps tell a retransmission from its original


def flag_text(bits: int) -> str:
    return "".join(letter for letter, bit in FLAG_LETTERS if bits & bit)


def read(data: bytes) -> list[Packet]:
    """The TCP/IPv4 packets of a pcap file's bytes, in capture order; others are skipped.

    A capture cut short (the last record incomplete) keeps the packets before it.
    """
    return [packet for ip in ipv4(data) if ip.protocol == TCP and (packet := _tcp(ip))]


def _tcp(ip: IPv4) -> Packet | None:
    tcp = ip.body  # the frame may be cut short by the capture's snap length
    if len(tcp) < 20:
        return None
    sport, dport, seq, ack, offset_flags = struct.unpack_from("!HHIIH", tcp)
    header = (offset_flags >> 12) * 4
    return Packet(t=ip.t, outgoing=ip.outgoing, src=ip.src, sport=sport, dst=ip.dst,
                  dport=dport, ip_id=ip.ident, seq=seq, ack=ack,
                  flags=flag_text(offset_flags & 0x3F),
                  length=max(ip.total - len(ip.header) - header, 0),
                  payload=bytes(tcp[header:]), options=bytes(tcp[20:header]))
