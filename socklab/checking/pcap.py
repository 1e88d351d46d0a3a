"""A small pcap reader: the IPv4 packets of a capture taken on the router.

The router captures with ``tcpdump -i any``, so each packet carries Linux's "cooked"
header (SLL, or SLL2 from libpcap 1.10 on) that says whether the router received it or
sent it. A packet the router forwarded shows up twice (in, then out); one it dropped,
only once. Only the standard library: the format is a 24-byte file header, then a
16-byte header before each packet. Labs read TCP or UDP out of the IPv4 packets.

The checkers judge both sides, but a capture holding each packet twice misleads
Wireshark (every forwarded segment looks retransmitted), so the files a student opens
hold one interface each: ``sides`` splits an SLL2 capture by the interface it names.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

MAGIC = {  # magic number -> (byte order, timestamp units per second)
    b"\xd4\xc3\xb2\xa1": ("<", 1_000_000),
    b"\xa1\xb2\xc3\xd4": (">", 1_000_000),
    b"\x4d\x3c\xb2\xa1": ("<", 1_000_000_000),
    b"\xa1\xb2\x3c\x4d": (">", 1_000_000_000),
}
LINKTYPE_SLL, LINKTYPE_SLL2 = 113, 276
OUTGOING = 4  # the cooked header's packet type for a packet the router sent
ETH_P_IP = 0x0800
TCP, UDP = 6, 17


class PcapError(ValueError):
    """The bytes are not a capture this reader understands."""


@dataclass(frozen=True)
class IPv4:
    """One IPv4 packet as captured."""

    t: float  # seconds (the capture's clock)
    outgoing: bool  # sent by the router (else received by it)
    header: bytes  # the IP header
    body: bytes  # what it carries, up to its total length (less where the capture cut it)
    total: int  # the packet's length on the wire

    @property
    def protocol(self) -> int:
        return self.header[9]

    @property
    def src(self) -> str:
        return str(ipaddress.IPv4Address(self.header[12:16]))

    @property
    def dst(self) -> str:
        return str(ipaddress.IPv4Address(self.header[16:20]))

    @property
    def ident(self) -> int:
        return struct.unpack_from("!H", self.header, 4)[0]


def ipv4(data: bytes) -> Iterator[IPv4]:
    """The IPv4 packets of a pcap file's bytes, in capture order; others are skipped.

    A capture cut short (the last record incomplete) keeps the packets before it.
    """
    linktype, units = _format(data)
    for sec, frac, frame, _ in _records(data):
        packet = _decode(frame, linktype, sec + frac / units)
        if packet is not None:
            yield packet


def sides(data: bytes, address: str) -> tuple[bytes, bytes]:
    """Split a capture on 'any' (SLL2) in two pcap files: the records taken on the
    router's interface on ``address``'s network (the one its packets came in on, or went
    out on if it sent none), and those taken on every other interface.

    Each file then holds each packet once, as it crossed that interface.
    """
    linktype, _ = _format(data)
    if linktype != LINKTYPE_SLL2:
        raise PcapError(
            f"link type {linktype}: only SLL2 (tcpdump -y LINUX_SLL2) names the interface of each packet"
        )
    frames = [(frame, raw) for *_, frame, raw in _records(data) if len(frame) >= 20]
    on_side = None
    for incoming in (True, False):
        for frame, _ in frames:
            ip = _decode(frame, linktype, 0.0)
            if ip is not None and ip.outgoing != incoming and (ip.src if incoming else ip.dst) == address:
                on_side = _ifindex(frame)
                break
        if on_side is not None:
            break
    near = b"".join(raw for frame, raw in frames if _ifindex(frame) == on_side)
    far = b"".join(raw for frame, raw in frames if _ifindex(frame) != on_side)
    return data[:24] + near, data[:24] + far


def _ifindex(frame: bytes) -> int:
    return int(struct.unpack_from("!I", frame, 4)[0])


def _format(data: bytes) -> tuple[int, int]:
    """The capture's link type and timestamp units per second."""
    if len(data) < 24 or data[:4] not in MAGIC:
        raise PcapError(f"not a pcap file (starts with {data[:4].hex() or 'nothing'})")
    order, units = MAGIC[data[:4]]
    linktype = struct.unpack(order + "I", data[20:24])[0] & 0x0FFFFFFF
    if linktype not in (LINKTYPE_SLL, LINKTYPE_SLL2):
        raise PcapError(f"link type {linktype}: expected a capture on 'any' (SLL or SLL2)")
    return linktype, units


def _records(data: bytes) -> Iterator[tuple[int, int, bytes, bytes]]:
    """(seconds, fraction, frame, the whole record) of each complete record."""
    record = struct.Struct(MAGIC[data[:4]][0] + "IIII")
    offset = 24
    while offset + record.size <= len(data):
        sec, frac, caplen, _ = record.unpack_from(data, offset)
        end = offset + record.size + caplen
        if end > len(data):
            break
        yield sec, frac, data[offset + record.size : end], data[offset:end]
        offset = end


def _decode(frame: bytes, linktype: int, t: float) -> IPv4 | None:
    if linktype == LINKTYPE_SLL2:  # protocol(2) reserved(2) ifindex(4) hatype(2) pkttype(1) ...
        if len(frame) < 20:
            return None
        proto, pkttype, ip = struct.unpack_from("!H", frame)[0], frame[10], frame[20:]
    else:  # pkttype(2) hatype(2) addrlen(2) addr(8) protocol(2)
        if len(frame) < 16:
            return None
        pkttype, proto = struct.unpack_from("!H", frame)[0], struct.unpack_from("!H", frame, 14)[0]
        ip = frame[16:]
    if proto != ETH_P_IP or len(ip) < 20 or ip[0] >> 4 != 4:
        return None
    ihl = (ip[0] & 0x0F) * 4
    total = struct.unpack_from("!H", ip, 2)[0]
    return IPv4(t, pkttype == OUTGOING, bytes(ip[:ihl]), bytes(ip[ihl:total]), total)


def save(data: bytes, client: str, path: Path) -> None:
    """Write a capture on 'any' as the files a student opens in Wireshark: ``path`` holds
    what crossed the router's interface on the client's network, ``NAME.server-side.pcap``
    what crossed its other interface. A capture that cannot be split is written whole
    (reading it is what fails, and says why).
    """
    try:
        near, far = sides(data, client)
    except PcapError:
        path.write_bytes(data)
        return
    path.write_bytes(near)
    path.with_name(f"{path.stem}.server-side.pcap").write_bytes(far)
