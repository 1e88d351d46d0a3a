"""A small pcap reader: the TCP/IPv4 packets of a capture taken on the router.

The router captures with ``tcpdump -i any``, so each packet carries Linux's "cooked"
header (SLL, or SLL2 from libpcap 1.10 on) that says whether the router received it or
sent it. A packet the router forwarded shows up twice (in, then out); one it dropped,
only once. Only the standard library: the format is a 24-byte file header, then a
16-byte header before each packet.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass

MAGIC = {  # magic number -> (byte order, timestamp units per second)
    b"\xd4\xc3\xb2\xa1": ("<", 1_000_000), b"\xa1\xb2\xc3\xd4": (">", 1_000_000),
    b"\x4d\x3c\xb2\xa1": ("<", 1_000_000_000), b"\xa1\xb2\x3c\x4d": (">", 1_000_000_000),
}
LINKTYPE_SLL, LINKTYPE_SLL2 = 113, 276
OUTGOING = 4  # the cooked header's packet type for a packet the router sent
ETH_P_IP = 0x0800
FLAG_LETTERS = (("F", 0x01), ("S", 0x02), ("R", 0x04), ("P", 0x08), ("U", 0x20), (".", 0x10))


class PcapError(ValueError):
    """The bytes are not a capture this reader understands."""


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
    if len(data) < 24 or data[:4] not in MAGIC:
        raise PcapError(f"not a pcap file (starts with {data[:4].hex() or 'nothing'})")
    order, units = MAGIC[data[:4]]
    linktype = struct.unpack(order + "I", data[20:24])[0] & 0x0FFFFFFF
    if linktype not in (LINKTYPE_SLL, LINKTYPE_SLL2):
        raise PcapError(f"link type {linktype}: expected a capture on 'any' (SLL or SLL2)")
    record = struct.Struct(order + "IIII")
    packets, offset = [], 24
    while offset + record.size <= len(data):
        sec, frac, caplen, _ = record.unpack_from(data, offset)
        frame = data[offset + record.size:offset + record.size + caplen]
        offset += record.size + caplen
        if len(frame) < caplen:
            break
        packet = _decode(frame, linktype, sec + frac / units)
        if packet is not None:
            packets.append(packet)
    return packets


def _decode(frame: bytes, linktype: int, t: float) -> Packet | None:
    if linktype == LINKTYPE_SLL2:  # protocol(2) reserved(2) ifindex(4) hatype(2) pkttype(1) ...
        if len(frame) < 20:
            return None
        proto, pkttype, ip = struct.unpack_from("!H", frame)[0], frame[10], frame[20:]
    else:  # pkttype(2) hatype(2) addrlen(2) addr(8) protocol(2)
        if len(frame) < 16:
            return None
        pkttype, proto = struct.unpack_from("!H", frame)[0], struct.unpack_from("!H", frame, 14)[0]
        ip = frame[16:]
    if proto != ETH_P_IP or len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 6:
        return None
    ihl = (ip[0] & 0x0F) * 4
    total = struct.unpack_from("!H", ip, 2)[0]
    tcp = ip[ihl:total]  # the frame may be cut short by the capture's snap length
    if len(tcp) < 20:
        return None
    sport, dport, seq, ack, offset_flags = struct.unpack_from("!HHIIH", tcp)
    header = (offset_flags >> 12) * 4
    return Packet(t=t, outgoing=pkttype == OUTGOING,
                  src=str(ipaddress.IPv4Address(ip[12:16])), sport=sport,
                  dst=str(ipaddress.IPv4Address(ip[16:20])), dport=dport,
                  ip_id=struct.unpack_from("!H", ip, 4)[0], seq=seq, ack=ack,
                  flags=flag_text(offset_flags & 0x3F), length=max(total - ihl - header, 0),
                  payload=bytes(tcp[header:]), options=bytes(tcp[20:header]))
