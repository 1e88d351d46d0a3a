"""TCP connections as the router saw them, and the questions lab 3 asks of them.

``connections(packets, client_ip)`` pairs each segment the router received with its copy
the router sent on (the same segment, one hop later): a segment with no copy was
dropped by the router. Everything here is pure: packets in, facts out.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass, field

from pcap import Packet

from socklab.i18n import _

MOD = 1 << 32


@dataclass(frozen=True)
class Segment:
    """One segment crossing the router: when it came in, when (if) it went out."""

    way: str  # "c2s" (client to server) or "s2c"
    t_in: float
    t_out: float | None  # None: the router dropped it
    flags: str
    seq: int
    ack: int
    length: int  # payload bytes
    payload: bytes  # as much of it as was captured

    @property
    def dropped(self) -> bool:
        return self.t_out is None

    def has(self, flag: str) -> bool:
        return flag in self.flags

    @property
    def end(self) -> int:
        """The sequence number after this segment (SYN and FIN count one each)."""
        return (self.seq + self.length + self.has("S") + self.has("F")) % MOD


@dataclass
class Connection:
    """One TCP connection between the client and the server, segments in arrival order."""

    client: tuple[str, int]
    server: tuple[str, int]
    segments: list[Segment] = field(default_factory=list)

    def isn(self, way: str) -> int:
        """The initial sequence number of one side (its SYN's), to show numbers from 0."""
        syns = [s for s in self.segments if s.way == way and s.has("S")]
        first = syns[0] if syns else next((s for s in self.segments if s.way == way), None)
        return first.seq if first else 0

    def relative(self, seg: Segment) -> tuple[int, int]:
        """(seq, ack) counted from each side's initial sequence number, as Wireshark shows them."""
        other = "s2c" if seg.way == "c2s" else "c2s"
        return (seg.seq - self.isn(seg.way)) % MOD, (seg.ack - self.isn(other)) % MOD

    def sent(self, way: str) -> list[Segment]:
        return [s for s in self.segments if s.way == way]


def connections(packets: list[Packet], client_ip: str) -> list[Connection]:
    """The connections in a capture, by the client's port, in the order they began."""
    pending: dict[tuple, deque[int]] = defaultdict(deque)  # a received segment awaiting its copy
    rows: list[tuple[tuple, Packet, float | None]] = []
    for packet in packets:
        way = "c2s" if packet.src == client_ip else "s2c"
        key = (way, packet.src, packet.sport, packet.dst, packet.dport, packet.ip_id,
               packet.seq, packet.ack, packet.flags, packet.length, packet.options)
        if not packet.outgoing:
            pending[key].append(len(rows))
            rows.append((key, packet, None))
        elif pending[key]:
            index = pending[key].popleft()
            rows[index] = (key, rows[index][1], packet.t)
        # an outgoing copy with no received original was made by the router itself: not
        # the endpoints' doing, and not part of their conversation
    found: dict[tuple, Connection] = {}
    for (way, *_key), packet, t_out in rows:
        client = (packet.src, packet.sport) if way == "c2s" else (packet.dst, packet.dport)
        server = (packet.dst, packet.dport) if way == "c2s" else (packet.src, packet.sport)
        conn = found.setdefault((client, server), Connection(client, server))
        conn.segments.append(Segment(way, packet.t, t_out, packet.flags, packet.seq, packet.ack,
                                     packet.length, packet.payload))
    return list(found.values())


def after(a: int, b: int) -> bool:
    """Sequence number ``a`` at or past ``b`` (modulo 2**32, as TCP compares them)."""
    return (a - b) % MOD < MOD // 2


def handshake(conn: Connection) -> tuple[Segment, Segment, Segment] | str:
    """The three segments that opened the connection, or what is missing."""
    syn = next((s for s in conn.sent("c2s") if s.flags == "S"), None)
    if syn is None:
        return _("no SYN from the client")
    synack = next((s for s in conn.segments if s.way == "s2c" and s.has("S") and s.has(".")
                   and s.ack == syn.end and not s.dropped), None)
    if synack is None:
        return _("no SYN-ACK from the server reached the client")
    ack = next((s for s in conn.segments if s.way == "c2s" and s.t_in > synack.t_in
                and not s.has("S") and s.has(".") and s.ack == synack.end), None)
    if ack is None:
        return _("the client never acknowledged the server's SYN-ACK")
    return syn, synack, ack


def fin(conn: Connection, way: str) -> Segment | None:
    """The first FIN one side sent: it has nothing more to send."""
    return next((s for s in conn.sent(way) if s.has("F")), None)


def acknowledgement(conn: Connection, seg: Segment) -> Segment | None:
    """The first segment of the other side that acknowledges ``seg`` whole."""
    return next((s for s in conn.segments if s.way != seg.way and s.t_in >= seg.t_in
                 and s.has(".") and after(s.ack, seg.end)), None)


def first_data(conn: Connection, way: str) -> Segment | None:
    return next((s for s in conn.sent(way) if s.length), None)


def retransmission(conn: Connection, seg: Segment) -> bool:
    """``seg`` repeats something its side had sent already (the sender's timer ran out)."""
    if not (seg.length or seg.has("S") or seg.has("F")):
        return False  # pure ACKs are not retransmitted, only repeated
    return any(s is not seg and s.way == seg.way and s.t_in < seg.t_in and s.seq == seg.seq
               and s.flags == seg.flags and s.length == seg.length for s in conn.segments)


def closed(conn: Connection, before: float) -> bool:
    """Both FINs sent and acknowledged before time ``before``: the close was complete."""
    for way in ("c2s", "s2c"):
        sent = fin(conn, way)
        acked = acknowledgement(conn, sent) if sent else None
        if acked is None or acked.t_in >= before:
            return False
    return True


def answered(conn: Connection, rst: Segment) -> Segment | None:
    """The segment an RST answers: the other side's last one before it acknowledging up to
    the RST's sequence number (a host answers a segment for a socket it no longer has with
    an RST whose seq is that segment's ack)."""
    return next((s for s in reversed(conn.segments) if s.way != rst.way and s.t_in <= rst.t_in
                 and s.has(".") and s.ack == rst.seq), None)


def repeated(conn: Connection, seg: Segment) -> bool:
    """``seg`` is a copy of one its side had sent before (same seq, ack and flags)."""
    return any(s is not seg and s.way == seg.way and s.t_in < seg.t_in and s.seq == seg.seq
               and s.ack == seg.ack and s.flags == seg.flags and s.length == seg.length
               for s in conn.segments)


def late(conn: Connection, seg: Segment) -> bool:
    """An RST after the connection had closed gracefully, answering a late duplicate (a
    retransmitted FIN's second ACK): the host had rightly forgotten the connection.

    An RST answering the first copy of a segment (the last ACK, say) is no such thing: the
    host dropped the connection before the close was done (SO_LINGER 0, for instance).
    """
    if not (seg.has("R") and closed(conn, seg.t_in)):
        return False
    trigger = answered(conn, seg)
    return trigger is not None and repeated(conn, trigger)


def resets(conn: Connection) -> list[Segment]:
    """The RSTs that cut the connection short (not those answering late duplicates)."""
    return [s for s in conn.segments if s.has("R") and not late(conn, s)]


def name(seg: Segment) -> str:
    """A segment's flags in words: SYN, SYN-ACK, ACK, FIN-ACK, PSH-ACK, RST..."""
    words = [w for letter, w in (("S", "SYN"), ("F", "FIN"), ("R", "RST"), ("P", "PSH"),
                                 ("U", "URG"), (".", "ACK")) if seg.has(letter)]
    return "-".join(words) or _("(no flags)")
