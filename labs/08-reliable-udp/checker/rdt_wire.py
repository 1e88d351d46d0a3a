"""Lab 8's view of the wire, free of I/O: the packet format, a UDP pcap reader, and the
judgement of how many packets a sender kept in flight.

The router captures with ``tcpdump -i any``: each packet carries Linux's "cooked" header
(SLL, or SLL2 from libpcap 1.10 on), which says whether the router received it or sent it
on. What the router *received from the client* is what the sender sent, before any
impairment; what it *sent to the client* is what the sender got: damage, copies and all.
"""

from __future__ import annotations

import functools
import itertools
import statistics
import struct
import zlib
from dataclasses import dataclass

from socklab.checking.pcap import UDP, PcapError, ipv4
from socklab.i18n import _

ICMP = 1

HEADER = struct.Struct("!IcIH")  # crc32 of the rest, kind, seq, length (the README's format)
MAX_PAYLOAD = 1024
LINGER_SURE = 0.9  # s: within this after its last packet the receiver surely still lingers (1 s)
SILENCE = 0.75  # s: the longest a sender may stay silent with a packet unacknowledged (the
# timeout, at most 0.5 s, and room for a loaded machine's scheduling)
PATIENCE = 5.0  # s: R11, from the first FIN to giving up
GIVE_UP_BY = 5.75  # s: first FIN to last, the 5 s of patience and room for the scheduler
__all__ = ["Datagram", "Ending", "Flight", "Gone", "Parsed", "PcapError", "ending", "gone",
           "gone_problem", "in_flight", "last_in", "longest_silence", "parse", "read",
           "refused", "sent_before_first_ack", "short_acks", "timeout_problem", "wire_problems"]


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
                damaged = _(" (a damaged ACK reading {seq} had just reached it: it fails "
                            "its CRC-32, so it acknowledges nothing)").format(seq=p.seq)
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
                    left = _("data packet {seq} left the client at +{t:.3f} s while packet "
                             "{acked} was still unacknowledged: the ACKs that had reached the "
                             "client asked for {acked} at most{damaged}") if p.kind == "D" else \
                        _("FIN {seq} left the client at +{t:.3f} s while packet {acked} was "
                          "still unacknowledged: the ACKs that had reached the client asked for "
                          "{acked} at most{damaged}")
                    first = left.format(seq=p.seq, t=d.t - start, acked=acked, damaged=damaged)
            damaged = ""
    return Flight(sent, foreign, first, excess, most, frozenset(numbers))


def _what(d: Datagram, start: float) -> str:
    return _("at +{t:.3f} s").format(t=d.t - start)


def _both(kinds: str) -> str:
    """The kinds a program may send, in words: 'D and F'."""
    return functools.reduce(lambda a, b: _("{first} and {second}").format(first=a, second=b), kinds)


def _format_problem(payload: bytes, kinds: str) -> str:
    """What is wrong with a packet a program sent (R2), or ""."""
    if len(payload) < HEADER.size:
        return _("a datagram of {size} bytes, shorter than the 11-byte header").format(size=len(payload))
    crc, kind, seq, length = HEADER.unpack_from(payload)
    text = kind.decode("latin-1")
    if zlib.crc32(payload[4:]) != crc:
        return _("a packet (kind {kind}, number {seq}) whose crc field reads {crc:08x}, but "
                 "zlib.crc32 of its bytes 4 to the end is {computed:08x}").format(
            kind=repr(text), seq=seq, crc=crc, computed=zlib.crc32(payload[4:]))
    if length != len(payload) - HEADER.size:
        return _("a packet (kind {kind}, number {seq}) whose length field says {length}, "
                 "with {size} bytes after the header").format(
            kind=repr(text), seq=seq, length=length, size=len(payload) - HEADER.size)
    if text not in kinds:
        return _("a packet of kind {kind} (number {seq}); it may send only {kinds}").format(
            kind=repr(text), seq=seq, kinds=_both(kinds))
    if text in "AF" and length:
        return _("a packet of kind {kind} (number {seq}) with a {length}-byte payload").format(
            kind=repr(text), seq=seq, length=length)
    return ""


def wire_problems(datagrams: list[Datagram], client: str, server: str,
                  data: bytes) -> list[str]:
    """What the router saw the two programs send that breaks the packet rules, in order:
    a packet not in the format (R2), a data packet that is not the file's payload of its
    number or a FIN with the wrong number (R3), an ACK asking for a packet that had not
    reached the receiver, or an intact data packet left unanswered (R5).

    The receiver's view is what the router sent it (``outgoing`` to ``server``): damage
    and copies included. Its ACKs are what the router got from it, before any impairment.
    """
    payloads = [data[i:i + MAX_PAYLOAD] for i in range(0, len(data), MAX_PAYLOAD)]
    fin = len(payloads)
    problems: list[str] = []
    have: set[int] = set()  # intact data packets that reached the receiver
    wanted = 0  # the lowest number it did not have
    owed = 0  # intact data packets that reached it, minus its ACKs, until it took the FIN
    closed = False  # the FIN reached it with every data packet: it lingers, answers FINs
    ordered = sorted(datagrams, key=lambda d: d.t)
    start = ordered[0].t if ordered else 0.0
    for d in ordered:
        when = _what(d, start)
        if not d.outgoing and d.src == client:  # as the sender sent it
            wrong = _format_problem(d.payload, "DF")
            p = parse(d.payload)
            if not wrong and p is not None and p.kind == "D":
                body = d.payload[HEADER.size:]
                if p.seq >= fin:
                    wrong = _("data packet {seq}, but the file has {count} payloads (0 to {last})").format(
                        seq=p.seq, count=fin, last=fin - 1)
                elif body != payloads[p.seq]:
                    wrong = _("data packet {seq} holding {size} bytes that are not bytes {first} to "
                              "{last} of the file ({length} bytes)").format(
                        seq=p.seq, size=len(body), first=p.seq * MAX_PAYLOAD,
                        last=p.seq * MAX_PAYLOAD + len(payloads[p.seq]) - 1, length=len(payloads[p.seq]))
            elif not wrong and p is not None and p.kind == "F" and p.seq != fin:
                wrong = _("a FIN numbered {seq}; the file has {count} payloads, so its FIN is "
                          "{count}").format(seq=p.seq, count=fin)
            if wrong:
                problems.append(_("the sender sent {wrong} ({when})").format(wrong=wrong, when=when))
        elif d.outgoing and d.dst == server:  # as the receiver got it
            p = parse(d.payload)
            if p is None or not p.sound or closed:
                continue
            if p.kind == "D" and p.seq < fin:
                have.add(p.seq)
                owed += 1
                while wanted in have:
                    wanted += 1
            elif p.kind == "F" and p.seq == fin == wanted:
                wanted, closed = fin + 1, True
        elif not d.outgoing and d.src == server:  # as the receiver sent it
            wrong = _format_problem(d.payload, "A")
            p = parse(d.payload)
            if wrong:
                problems.append(_("the receiver sent {wrong} ({when})").format(wrong=wrong, when=when))
                continue
            assert p is not None
            owed = max(owed - 1, 0)
            if p.seq > wanted:
                got = _("packets 0 to {last}").format(last=wanted - 1) if wanted else _("no packet")
                problems.append(_("the receiver sent ACK {seq} ({when}) when {got} had reached "
                                  "it intact (the first missing: {wanted})").format(
                    seq=p.seq, when=when, got=got, wanted=wanted))
    if owed:
        # the English says "packets" even for one (tests/unit/test_lab08_rdt.py reads it so)
        problems.append(_("the receiver left {count} intact data packets unanswered: every one "
                          "that reaches it, new or a copy, gets an ACK").format(count=owed))
    return problems


@dataclass(frozen=True)
class Ending:
    """The FIN exchange as the router saw it (R10, R12)."""

    fins: int  # FINs the sender sent
    acks_sent: int  # ACKs of the FIN the receiver sent
    acks_lost: int  # ... that the router lost
    acks_reached: int  # intact ACKs of the FIN that reached the sender
    fins_reached: int  # FINs that reached the receiver once it had every data packet
    longest_wait: float  # the longest time between two FINs (s), 0 if fewer than two
    early: str = ""  # the first FIN sent before an ACK had covered every data packet, or ""
    unanswered: str = ""  # the first FIN that reached the lingering receiver unanswered, or ""


def ending(datagrams: list[Datagram], client: str, server: str, fin: int) -> Ending:
    """Count the FINs numbered ``fin`` and their ACKs (``fin + 1``) on both sides of the router."""
    fins: list[float] = []
    acks_sent = acks_reached = fins_reached = 0
    acked, early = 0, ""  # the most the ACKs that reached the sender asked for
    ordered = sorted(datagrams, key=lambda d: d.t)
    last_in = None  # when the last packet reached the receiver
    pending: list[float] = []  # FINs it must answer (it lingers 1 s after its last packet)
    taken = False  # it has taken a FIN
    for d in ordered:
        if d.outgoing and d.dst == server:
            p = parse(d.payload)
            if p is not None and p.sound and p.kind == "F" and p.seq == fin and (
                    not taken or (last_in is not None and d.t - last_in < LINGER_SURE)):
                pending.append(d.t)
                taken = True
            last_in = d.t
        elif not d.outgoing and d.src == server and pending:
            p = parse(d.payload)
            if p is not None and p.sound and p.kind == "A" and p.seq == fin + 1:
                pending.pop(0)
        p = parse(d.payload)
        if p is None or not p.sound:
            continue
        if p.kind == "A" and d.outgoing and d.dst == client:
            acked = max(acked, p.seq)
        if p.kind == "F" and not d.outgoing and d.src == client and acked < fin and not early:
            early = _("FIN {seq} left the client at +{t:.3f} s, when the ACKs that had reached "
                      "it asked for {acked} at most (data packet {acked} unacknowledged)").format(
                seq=p.seq, t=d.t - ordered[0].t, acked=acked)
        if p.kind == "F" and p.seq == fin:
            if not d.outgoing and d.src == client:
                fins.append(d.t)
            elif d.outgoing and d.dst == server:
                fins_reached += 1
        elif p.kind == "A" and p.seq == fin + 1:
            if not d.outgoing and d.src == server:
                acks_sent += 1
            elif d.outgoing and d.dst == client:
                acks_reached += 1
    waits = [b - a for a, b in itertools.pairwise(fins)]
    lost = acks_sent - min(acks_sent, acks_reached)
    unanswered = (_("a FIN reached the receiver at +{t:.3f} s, less than {linger:g} s after the "
                    "packet before it, and it never answered").format(
                      t=pending[0] - ordered[0].t, linger=LINGER_SURE)
                  if pending else "")
    return Ending(len(fins), acks_sent, lost, acks_reached, fins_reached,
                  max(waits, default=0.0), early, unanswered)


def longest_silence(datagrams: list[Datagram], client: str) -> tuple[float, float]:
    """The longest time between two packets the sender sent, from its first to its last
    (it always has a packet unacknowledged then: the timeout bounds it, R7), and when that
    silence began, in seconds from the first packet the router saw."""
    times = sorted(d.t for d in datagrams if not d.outgoing and d.src == client)
    if len(times) < 2:
        return 0.0, 0.0
    start = min(d.t for d in datagrams)
    gap, at = max((b - a, a) for a, b in itertools.pairwise(times))
    return gap, at - start


TIMEOUT_MEDIAN = 0.58  # s: the median wait between two sendings of one FIN (R7's 0.5 s, and
# a loaded machine's scheduling: the median keeps a few late wake-ups from counting, so the
# bound can be much closer to 0.5 s than SILENCE, which bounds the longest)


def timeout_problem(sent: list[float]) -> str:
    """A sender's timeout read from the times it sent one FIN again and again, no ACK
    coming (R7: at most 0.5 s): the median wait between two, when there are 3 or more."""
    waits = sorted(b - a for a, b in itertools.pairwise(sorted(sent)))
    if len(waits) < 3:
        return ""
    median = statistics.median(waits)
    if median <= TIMEOUT_MEDIAN:
        return ""
    return _("it sent the FIN again every {median:.2f} s (the median of {count} waits, from "
             "{least:.2f} to {most:.2f} s)").format(median=median, count=len(waits),
                                                    least=waits[0], most=waits[-1])


def last_in(datagrams: list[Datagram], server: str) -> float | None:
    """When the router sent the receiver its last datagram (the capture's clock), if any."""
    return max((d.t for d in datagrams if d.outgoing and d.dst == server), default=None)


def sent_before_first_ack(events: list[dict[str, object]]) -> int:
    """How many packets the sender sent before any packet of the receiver's reached it,
    from the router's log (``dir``, ``t_in``, ``t_out`` of each packet)."""
    back = [e["t_out"] for e in events if e["dir"] == "s2c" and e["t_out"] is not None]
    first = min(back, default=float("inf"))  # type: ignore[type-var]
    return sum(1 for e in events if e["dir"] == "c2s" and e["t_in"] < first)  # type: ignore[operator]


def refused(data: bytes, client: str) -> list[bytes]:
    """The payloads of the datagrams the client refused: an ICMP "port unreachable" it
    sent back (its socket was closed when the datagram came), from a pcap file's bytes."""
    out = []
    for ip in ipv4(data):
        if ip.protocol != ICMP or ip.outgoing or ip.src != client or len(ip.body) < 8 + 20:
            continue
        if ip.body[0] != 3 or ip.body[1] != 3:  # destination unreachable: port
            continue
        inner = ip.body[8:]
        start = (inner[0] & 0x0F) * 4 + 8  # its IP header, then its UDP header
        if inner[9] == UDP and len(inner) > start:
            out.append(inner[start:])
    return out


def short_acks(datagrams: list[Datagram], server: str, fin: int) -> list[str]:
    """ACKs that ask for less than the receiver had (R5, R6): its n-th ACK answers the n-th
    intact data packet that reached it, and asks for the lowest number it did not have then,
    counting the packets it keeps ahead of a gap. A receiver that drops those asks again for
    packets it had. (Asking for more, acting on later packets too, is allowed here.)
    Stops at the first FIN that reached it with every data packet.
    """
    have: set[int] = set()
    wanted = 0
    due: list[tuple[int, int]] = []  # (what the answer must ask for at least, packet number)
    answered = 0
    problems: list[str] = []
    ordered = sorted(datagrams, key=lambda d: d.t)
    for d in ordered:
        p = parse(d.payload)
        if p is None or not p.sound:
            continue
        if d.outgoing and d.dst == server:
            if p.kind == "F" and p.seq == fin == wanted:
                break
            if p.kind == "D" and p.seq < fin:
                have.add(p.seq)
                while wanted in have:
                    wanted += 1
                due.append((wanted, p.seq))
        elif not d.outgoing and d.src == server and p.kind == "A" and answered < len(due):
            least, seq = due[answered]
            answered += 1
            if p.seq < least:
                problems.append(_("the receiver answered data packet {seq} (+{t:.3f} s) with ACK "
                                  "{ack}, when it had every packet up to {last} (packets that came "
                                  "ahead of a gap are kept)").format(
                    seq=seq, t=d.t - ordered[0].t, ack=p.seq, last=least - 1))
    # nothing to judge is no pass: every intact data packet is answered (R5)
    if not due:
        problems.append(_("no intact data packet of the transfer reached the receiver"))
    elif not answered:
        problems.append(_("the receiver answered none of the {count} intact data packets that "
                          "reached it").format(count=len(due)))
    return problems


@dataclass(frozen=True)
class Gone:
    """The end of a transfer whose receiver closed its port when the FIN came (R10, R11),
    as the router saw it: the FINs the sender sent, and the ICMP "port unreachable" the
    server's kernel sent back that the router passed on to the client."""

    fins: tuple[float, ...]  # when the router got each intact FIN from the client (its clock)
    refusals: tuple[float, ...]  # when it passed each port unreachable on to the client


def gone(data: bytes, client: str, server: str, fin: int) -> Gone:
    """The FINs numbered ``fin`` and the port unreachables in a pcap file's bytes."""
    fins, refusals = [], []
    for ip in ipv4(data):
        if ip.protocol == UDP and not ip.outgoing and ip.src == client and len(ip.body) >= 8:
            p = parse(ip.body[8:])
            if p is not None and p.sound and p.kind == "F" and p.seq == fin:
                fins.append(ip.t)
        elif (ip.protocol == ICMP and ip.outgoing and ip.src == server and ip.dst == client
              and ip.body[:2] == b"\x03\x03"):  # destination unreachable: port
            refusals.append(ip.t)
    return Gone(tuple(sorted(fins)), tuple(sorted(refusals)))


def gone_problem(end: Gone, fin: int, status: int | None, exit_at: float) -> tuple[str, str] | None:
    """What the sender did wrong once its receiver had left, as (expected, observed); None
    if nothing. ``status``: its exit status, None if it was killed at the check's bound;
    ``exit_at``: when the checker saw it had exited (on the capture's clock; it exited no
    later). An ICMP port unreachable is no ACK (R10), and no reason to stop sending the
    FIN or to give up before the 5 s of R11 either (the README's hint: catch it and go on).
    """
    if not end.fins:
        return (_("the sender to send its FIN, numbered {fin}, once every data packet is "
                  "acknowledged").format(fin=fin),
                _("no FIN {fin} left the client").format(fin=fin))
    first = end.fins[0]
    icmp = _("{count} ICMP port unreachable reached it (the receiver had closed its port when "
             "the FIN came)").format(count=sum(1 for t in end.refusals if t >= first))
    if status is None:
        return (_("the sender to give up {patience:g} s after its first FIN, no ACK of it having "
                  "come, and exit with status 1").format(patience=PATIENCE),
                _("it was still running when the checker stopped it; {icmp}").format(icmp=icmp))
    if status == 0:
        return (_("the sender to exit with status 0 only once an intact ACK asking for {ack} "
                  "(FIN + 1) has reached it: a port unreachable is no ACK, and says nothing of "
                  "whether the receiver has the file").format(ack=fin + 1),
                _("it exited with status 0, {after:.2f} s after its first FIN, and no ACK of the "
                  "FIN had reached it; {icmp}").format(after=exit_at - first, icmp=icmp))
    if status != 1:
        return (_("the sender to exit with status 1 when it gives up on the FIN"),
                _("it exited with status {status}; {icmp}").format(status=status, icmp=icmp))
    if exit_at - first < PATIENCE:
        return (_("the sender to go on sending the FIN after a port unreachable (a "
                  "ConnectionRefusedError: catch it and go on), and to give up {patience:g} s "
                  "after its first FIN, no ACK of it having come").format(patience=PATIENCE),
                _("it exited with status 1, {after:.2f} s after its first FIN; {icmp}").format(
                    after=exit_at - first, icmp=icmp))
    if end.fins[-1] - first > GIVE_UP_BY:
        return (_("the sender to give up {patience:g} s after its first FIN (its last FIN a "
                  "timeout, at most 0.5 s, before that)").format(patience=PATIENCE),
                _("it sent FINs for {span:.2f} s ({count} FINs)").format(
                    span=end.fins[-1] - first, count=len(end.fins)))
    expected = _("the sender to send the FIN again on each timeout (at most 0.5 s), port "
                 "unreachable or not, until it gives up {patience:g} s after the first").format(
                     patience=PATIENCE)
    gap, at = max(((b - a, a) for a, b in itertools.pairwise(end.fins)), default=(0.0, first))
    if gap > SILENCE:
        return expected, _("it sent no FIN for {gap:.2f} s, from +{at:.2f} s after its first; "
                           "{icmp}").format(gap=gap, at=at - first, icmp=icmp)
    if end.fins[-1] - first < PATIENCE - SILENCE:
        return expected, _("it sent its last FIN {last:.2f} s after its first, and exited "
                           "{after:.2f} s after the first; {icmp}").format(
                               last=end.fins[-1] - first, after=exit_at - first, icmp=icmp)
    return None
