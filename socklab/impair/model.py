"""The engine's data: packet summaries, verdicts, rules and profiles (frozen dataclasses).

``Packet`` and ``Event`` are made for every packet, so they are NamedTuples: just as
immutable, read as fast, built several times faster (a frozen dataclass sets each field
through ``object.__setattr__``; ``new_tuple`` below is faster still).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

# ``new_tuple(Packet, (all, the, fields))`` builds a NamedTuple without its Python-level
# ``__new__`` (which only names the arguments and fills defaults): about 0.45 us less per
# object, and the engine makes four per packet. Every field must be given, in order.
new_tuple = tuple.__new__

C2S, S2C = "c2s", "s2c"
DIRECTIONS = (C2S, S2C)
ICMP, TCP, UDP = 1, 6, 17
PROTOCOLS = {"icmp": ICMP, "tcp": TCP, "udp": UDP}
PROTO_NAMES = {v: k for k, v in PROTOCOLS.items()}
FIN, SYN, RST, PSH, ACK, URG = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20
JITTERS = ("uniform", "normal", "pareto")
CORRUPT_MODES = ("detected", "undetected")
# Which packets a script counts: h11-style table of predicates instead of an if chain.
KINDS = {
    "any": lambda p: True,
    "data": lambda p: p.proto == UDP or (p.proto == TCP and p.length > 0),
    "syn": lambda p: p.proto == TCP and p.flags & (SYN | ACK) == SYN,
    "synack": lambda p: p.proto == TCP and p.flags & (SYN | ACK) == SYN | ACK,
    "fin": lambda p: p.proto == TCP and bool(p.flags & FIN),
    "rst": lambda p: p.proto == TCP and bool(p.flags & RST),
    "ack": lambda p: p.proto == TCP and p.length == 0 and p.flags & (SYN | FIN | RST | ACK) == ACK,
}
ACTIONS = ("drop", "delay", "duplicate", "corrupt")


class Packet(NamedTuple):
    """What the engine knows of one IPv4 packet; ports and TCP fields are 0 where absent."""

    direction: str
    proto: int
    src: str
    dst: str
    sport: int = 0
    dport: int = 0
    size: int = 0  # IP total length
    seq: int = 0
    ack: int = 0
    flags: int = 0  # TCP flags
    length: int = 0  # L4 payload bytes (TCP data, UDP payload)
    payload_at: int = 0  # offset of the L4 payload in the IP packet

    @property
    def flow(self) -> tuple[str, int, str, int, str, int]:
        """One direction of one conversation."""
        return (self.direction, self.proto, self.src, self.sport, self.dst, self.dport)


# --- verdicts: the first of a decision is its fate (Deliver, Delay or Drop), the rest modify it.


@dataclass(frozen=True, slots=True)
class Deliver:
    """Pass the packet now."""

    rule: str


@dataclass(frozen=True, slots=True)
class Drop:
    """Drop the packet; cause is loss, burst (Gilbert-Elliott), rate (queue full) or script."""

    rule: str
    cause: str = "loss"


@dataclass(frozen=True, slots=True)
class Delay:
    """Hold the packet until ``until`` (the clock's seconds).

    ``ms`` is the delay drawn (what the rule or script asked for): it depends only on the
    seed and the packets. Order keeping and the rate limit, which depend on when packets
    come, can push ``until`` later.
    """

    rule: str
    until: float
    ms: float


@dataclass(frozen=True, slots=True)
class Reorder:
    """Pass the packet now, ahead of the delayed packets before it (netem's reorder)."""

    rule: str


@dataclass(frozen=True, slots=True)
class Duplicate:
    """Also send a copy of the (unmodified) packet right after it."""

    rule: str


@dataclass(frozen=True, slots=True)
class Corrupt:
    """Flip ``bit`` of byte ``offset`` of the IP packet; fix the L4 checksum unless ``detected``.

    ``undetectable``: the mode was ``detected`` but the datagram carries no checksum (a UDP
    checksum of 0, ``SO_NO_CHECK``), so no kernel can tell and the application gets the
    damage; ``detected`` is then False, as it is for the receiver.
    """

    rule: str
    offset: int
    bit: int
    detected: bool
    undetectable: bool = False


Verdict = Deliver | Drop | Delay | Reorder | Duplicate | Corrupt
Decision = tuple[Verdict, ...]


# --- rules and profiles


@dataclass(frozen=True, slots=True)
class Match:
    """Which packets of a direction a rule takes; None matches anything."""

    proto: int | None = None
    port: int | None = None  # either side
    sport: int | None = None
    dport: int | None = None

    def matches(self, p: Packet) -> bool:
        return (
            (self.proto is None or p.proto == self.proto)
            and (self.port is None or self.port in (p.sport, p.dport))
            and (self.sport is None or p.sport == self.sport)
            and (self.dport is None or p.dport == self.dport)
        )


@dataclass(frozen=True, slots=True)
class GilbertElliott:
    """netem's ``loss gemodel p r 1-h 1-k``: transition and loss probabilities."""

    p: float  # good -> bad
    r: float  # bad -> good
    bad_loss: float = 1.0  # 1-h: loss probability in the bad state
    good_loss: float = 0.0  # 1-k: loss probability in the good state

    @property
    def stationary_loss(self) -> float:
        bad = self.p / (self.p + self.r) if self.p + self.r > 0 else 0.0
        return bad * self.bad_loss + (1 - bad) * self.good_loss


@dataclass(frozen=True, slots=True)
class Impairment:
    """The random and link impairments of one rule (each drawn from its own stream)."""

    loss: float = 0.0
    burst: GilbertElliott | None = None
    delay_ms: float = 0.0
    jitter_ms: float = 0.0
    jitter: str = "uniform"
    keep_order: bool = True  # jitter never reorders unless this is off
    reorder: float = 0.0
    reorder_gap: int = 1
    duplicate: float = 0.0
    corrupt: float = 0.0
    corrupt_mode: str = "detected"
    rate_kbit: float = 0.0  # 0: no rate limit
    rate_queue: int = 64  # packets waiting for the rate-limited link; more are tail-dropped

    @property
    def configured_loss(self) -> float:
        return self.burst.stationary_loss if self.burst else self.loss


@dataclass(frozen=True, slots=True)
class Rule:
    """Random impairments for the packets of ``direction`` that ``match`` takes."""

    name: str
    direction: str  # c2s, s2c or both
    match: Match
    impair: Impairment

    def applies(self, p: Packet) -> bool:
        return self.direction in (p.direction, "both") and self.match.matches(p)


@dataclass(frozen=True, slots=True)
class Script:
    """A deterministic rule: act on the nth (or every nth) matching packet."""

    name: str
    direction: str
    match: Match
    action: str
    kind: str = "any"
    nth: tuple[int, ...] = ()
    every: int = 0
    per: str = "flow"  # count per flow, or per "direction"
    delay_ms: float = 0.0
    corrupt_mode: str = "detected"
    byte: int | None = None  # offset in the L4 payload; None: drawn from the script's stream
    bit: int | None = None
    length: int | None = None  # take only packets with this many L4 payload bytes

    def applies(self, p: Packet) -> bool:
        return (
            self.direction in (p.direction, "both")
            and self.match.matches(p)
            and KINDS[self.kind](p)
            and (self.length is None or p.length == self.length)
        )

    def fires(self, count: int) -> bool:
        return count in self.nth or (self.every > 0 and count % self.every == 0)


@dataclass(frozen=True)
class Profile:
    """A named set of rules: the first rule that applies to a packet impairs it."""

    name: str
    description: str = ""
    rules: tuple[Rule, ...] = ()
    scripts: tuple[Script, ...] = ()


class Event(NamedTuple):
    """One packet's passage: what came in, what was decided, when it left (None: dropped).

    ``t_in`` is when the kernel received the packet (its NFQUEUE timestamp) where the
    kernel gave one, else when the engine read it; ``t_read`` is when the engine read it,
    None when there was no kernel timestamp (then it is ``t_in``).
    """

    id: int
    packet: Packet
    decision: Decision
    t_in: float
    t_out: float | None
    version: int
    planned: float | None = None  # when the decision said it would leave
    t_read: float | None = None
