"""Lab 8's view of the wire, free of I/O: the packet format, a UDP pcap reader, and the
judgement of how many packets a sender kept in flight.

The router captures with ``tcpdump -i any``: each packet carries Linux's "cooked" header
(SLL, or SLL2 from libpcap 1.10 on), which says whether the router received it or sent it
on. What the router *received from the client* is what the sender sent, before any
impairment; what it *sent to the client* is what the sender got: damage, copies and all.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

from socklab.checking.pcap import UDP, PcapError, ipv4

HEADER = struct.Struct("!IcIH")  # crc32 of the rest, kind, seq, length (the README's format)
MAX_PAYLOAD = 1024
__all__ = ["Datagram", "Flight", "Parsed", "PcapError", "in_flight", "parse", "read"]


@dataclass(frozen=True)
class Datagram:
    """One UDP datagram as the router captured it."""

    t: float  # seconds (the capture's clock)
    outgoing: bool  # sent on by the router (else received by it)
    src: str
    dst: str
    payload: bytes


@dataclass(frozen=True)
class Parsed:
    """A payload read as the lab's packet format; ``sound`` when its CRC-32 matches."""

    kind: str  # "D", "A", "F", or "?" for an unknown kind byte
    seq: int
    sound: bool


def parse(payload: bytes) -> Parsed | None:
    """The lab's header of ``payload``; None when it is too short to hold one."""
    if len(payload) < HEADER.size:
        return None
    crc, kind, seq, length = HEADER.unpack_from(payload)
    sound = zlib.crc32(payload[4:]) == crc and length == len(payload) - HEADER.size
    text = kind.decode("latin-1")
    return Parsed(text if text in "DAF" else "?", seq, sound)


def read(data: bytes) -> list[Datagram]:
    """The UDP/IPv4 datagrams of a pcap file's bytes, in capture order; the rest is skipped.

    A capture cut short (the last record incomplete) keeps the datagrams before it.
    """
    return [Datagram(t=ip.t, outgoing=ip.outgoing, src=ip.src, dst=ip.dst, payload=ip.body[8:])
            for ip in ipv4(data) if ip.protocol == UDP and len(ip.body) >= 8]


@dataclass(frozen=True)
class Flight:
    """How a sender kept its packets in flight, judged from the client's side of the router."""

    sent: int  # data and FIN packets the client sent (retransmissions included)
    foreign: int  # packets from the client that are not in the lab's format
    first_excess: str  # the first packet sent while an earlier one was unacknowledged, or ""
    excess: int  # how many packets were sent so
    most: int  # the most packets in flight at once (as the ACKs that had reached it told)
    numbers: frozenset[int]  # the numbers of the data and FIN packets sent


def in_flight(datagrams: list[Datagram], client: str) -> Flight:
    """Replay the transfer as the sender saw it: packet ``n`` may leave only once an ACK
    asking for ``n`` (all before it arrived) has reached the client. Sending packet ``n``
    again, after a timeout, is fine.
    """
    acked = 0  # the highest number an intact ACK that reached the client asked for
    start = datagrams[0].t if datagrams else 0.0
    sent = foreign = excess = 0
    most, first, damaged = 0, "", ""
    numbers: set[int] = set()
    for d in sorted(datagrams, key=lambda d: d.t):
        p = parse(d.payload)
        if d.outgoing and d.dst == client:  # what reached the sender
            if p is not None and p.sound and p.kind == "A":
                acked = max(acked, p.seq)
            elif p is not None and p.kind == "A" and p.seq > acked:
                damaged = f" (a damaged ACK reading {p.seq} had just reached it: it fails " \
                          f"its CRC-32, so it acknowledges nothing)"
        elif not d.outgoing and d.src == client:  # what the sender sent
            if p is None or not p.sound or p.kind not in "DF":
                foreign += 1
                continue
            sent += 1
            numbers.add(p.seq)
            most = max(most, p.seq - acked + 1)
            if p.seq > acked:
                excess += 1
                if not first:
                    what = "data packet" if p.kind == "D" else "FIN"
                    first = (f"{what} {p.seq} left the client at +{d.t - start:.3f} s while "
                             f"packet {acked} was still unacknowledged: the ACKs that had "
                             f"reached the client asked for {acked} at most{damaged}")
            damaged = ""
    return Flight(sent, foreign, first, excess, most, frozenset(numbers))
