"""The decision logic: ``decide(packet, state, now)``, free of I/O; randomness and time come in.

Every impairment of every rule, in each direction, draws from its own ``random.Random``
stream seeded through SHA-256 from (master seed, rule name, direction, service,
impairment), where the service is the protocol and the lower port of the conversation
(the server's port, stable from run to run). Each stream draws for every packet it
takes, whatever the other impairments decide. So an impairment's decisions for a service
depend only on its parameters and that service's packets: adding a rule, changing another
impairment, or other traffic in between (a checker's probe) shifts nothing.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections import deque
from collections.abc import Callable
from typing import NamedTuple

from socklab.impair.model import (
    Corrupt,
    Decision,
    Delay,
    Deliver,
    Drop,
    Duplicate,
    Match,
    Packet,
    Profile,
    Reorder,
    Rule,
    Script,
    new_tuple,
)

PASS: Decision = (Deliver(""),)
_PARETO_ALPHA = 3.0  # Lomax(3, 1): mean 1/2, standard deviation sqrt(3)/2
_PARETO_MEAN, _PARETO_SD = 0.5, math.sqrt(3) / 2


def stream(seed: int, *parts: str) -> random.Random:
    """A random stream that depends only on the seed and the names given (not on ``hash()``)."""
    key = "\x1f".join([str(seed), *parts]).encode()
    return random.Random(int.from_bytes(hashlib.sha256(key).digest()[:16], "big"))


def hold_ms(delay: float, jitter: float, distribution: str, rng: random.Random) -> float:
    """A delay with mean ``delay`` and spread ``jitter`` (half-width for uniform, else the SD)."""
    if jitter <= 0:
        return delay
    if distribution == "uniform":
        value = delay + rng.uniform(-jitter, jitter)
    elif distribution == "normal":
        value = rng.normalvariate(delay, jitter)
    else:  # pareto, standardized as netem's table is: mean delay, SD jitter, long right tail
        value = delay + jitter * (rng.paretovariate(_PARETO_ALPHA) - 1 - _PARETO_MEAN) / _PARETO_SD
    return max(value, 0.0)


class Plan(NamedTuple):
    """What a rule's random streams drew for one packet, before time and queues are applied."""

    lost: str | None  # "loss", "burst" or None
    hold: float  # ms
    duplicate: bool
    corrupt: Corrupt | None
    reorder: float = 1.0  # the reorder stream's draw: below ``reorder`` sends the packet ahead


def service(p: Packet) -> tuple[int, int]:
    """The conversation's stable half: protocol and the lower port (the listening side's
    port, in practice), never the ephemeral port that changes from run to run."""
    return (p.proto, min(p.sport, p.dport))


class Streams:
    """The random streams of one rule, direction and service, and the state they drive."""

    __slots__ = ("bad", "corrupt", "delay", "duplicate", "gap_count", "loss", "reorder")

    def __init__(self, seed: int, rule: str, direction: str, svc: tuple[int, int]) -> None:
        base = (rule, direction, f"{svc[0]}/{svc[1]}")
        self.loss = stream(seed, *base, "loss")
        self.delay = stream(seed, *base, "delay")
        self.reorder = stream(seed, *base, "reorder")
        self.duplicate = stream(seed, *base, "duplicate")
        self.corrupt = stream(seed, *base, "corrupt")
        self.bad = False  # Gilbert-Elliott state
        self.gap_count = 0  # packets delayed since the last reordered one (netem's counter)


class Lane:
    """One rule in one direction: its link (rate limit, order) and its streams per service.

    ``gone_by(t)``: the latest planned release the engine had really made by time ``t``
    (None: every release on time). The rate-limited link's queue empties by it, so that
    packets an engine released late still count against the queue, as they were still in
    the router: the bound holds on the wire, not only in the plan.
    """

    def __init__(
        self, rule: Rule, direction: str, seed: int, gone_by: Callable[[float], float] | None = None
    ) -> None:
        self.name, self.direction, self.seed = rule.name, direction, seed
        self.gone_by = gone_by
        self.imp = rule.impair
        self.streams: dict[tuple[int, int], Streams] = {}
        self.floor = -math.inf  # latest release so far: jitter must not reorder
        self.link_free = -math.inf  # when the rate-limited link finishes its backlog
        self.backlog: deque[float] = deque()  # departure times of packets on the link
        # Verdicts are frozen and compared by value, so one of each serves every packet.
        self._verdicts: dict[tuple[type, str, str], Decision] = {}

    def _streams(self, p: Packet) -> Streams:
        svc = (p.proto, min(p.sport, p.dport))  # service(p), inlined: once per packet
        s = self.streams.get(svc)
        if s is None:
            s = self.streams[svc] = Streams(self.seed, self.name, self.direction, svc)
        return s

    def _verdict(self, kind: type, name: str, cause: str = "") -> Decision:
        """``(Deliver(name),)``, ``(Drop(name, cause),)`` or ``(Reorder(name),)``, made once."""
        key = (kind, name, cause)
        decision = self._verdicts.get(key)
        if decision is None:
            decision = self._verdicts[key] = (kind(name, cause) if cause else kind(name),)
        return decision

    def draw(self, p: Packet) -> Plan:
        imp, s = self.imp, self._streams(p)
        lost = None
        if imp.burst is not None:
            lost = "burst" if self._gilbert_elliott(s) else None
        elif imp.loss > 0 and s.loss.random() < imp.loss:
            lost = "loss"
        hold = (
            imp.delay_ms if imp.jitter_ms <= 0 else hold_ms(imp.delay_ms, imp.jitter_ms, imp.jitter, s.delay)
        )  # hold_ms's first line, inlined
        reorder = s.reorder.random() if imp.reorder > 0 else 1.0
        dup = imp.duplicate > 0 and s.duplicate.random() < imp.duplicate
        corrupt = None
        if imp.corrupt > 0 and p.length > 0 and s.corrupt.random() < imp.corrupt:
            corrupt = Corrupt(
                self.name,
                p.payload_at + s.corrupt.randrange(p.length),
                s.corrupt.randrange(8),
                imp.corrupt_mode == "detected",
            )
        return new_tuple(Plan, (lost, hold, dup, corrupt, reorder))

    def _gilbert_elliott(self, s: Streams) -> bool:
        # netem's order: move between states, then lose with the old state's probability.
        ge, u = self.imp.burst, s.loss.random
        assert ge is not None
        if s.bad:
            if u() < ge.r:
                s.bad = False
            return u() < ge.bad_loss
        if u() < ge.p:
            s.bad = True
        return u() < ge.good_loss

    def apply(self, plan: Plan, p: Packet, now: float, name: str | None = None) -> Decision:
        """Turn a plan into a decision at time ``now``; ``name`` overrides the rule's name."""
        name = name or self.name
        imp = self.imp
        if plan.lost:
            return self._verdict(Drop, name, plan.lost)
        mods: Decision = ()
        if plan.duplicate or plan.corrupt:
            mods = ((Duplicate(name),) if plan.duplicate else ()) + ((plan.corrupt,) if plan.corrupt else ())
        if imp.reorder > 0 and self._reorders(self._streams(p), plan.reorder):
            return self._verdict(Reorder, name) + mods
        depart: float | None = now
        if imp.rate_kbit > 0:
            depart = self._transmit(p.size, now)
        if depart is None:
            return self._verdict(Drop, name, "rate")
        until = depart + plan.hold / 1000
        if imp.keep_order:
            until = max(until, self.floor)
            self.floor = until
        if until <= now:
            return self._verdict(Deliver, name) + mods
        return (Delay(name, until, plan.hold), *mods)

    def _reorders(self, s: Streams, draw: float) -> bool:
        # netem: only once ``gap - 1`` packets were delayed, with probability ``reorder``
        # (drawn for every packet, so that what other impairments decide shifts no draw).
        if s.gap_count < self.imp.reorder_gap - 1 or draw >= self.imp.reorder:
            s.gap_count += 1
            return False
        s.gap_count = 0
        return True

    def _transmit(self, size: int, now: float) -> float | None:
        """When the packet has crossed the rate-limited link, or None if its queue is full."""
        gone = now if self.gone_by is None else min(now, self.gone_by(now))
        while self.backlog and self.backlog[0] <= gone:
            self.backlog.popleft()
        if len(self.backlog) >= self.imp.rate_queue:
            return None
        self.link_free = max(now, self.link_free) + size * 8 / (self.imp.rate_kbit * 1000)
        self.backlog.append(self.link_free)
        return self.link_free


class State:
    """Everything ``decide`` remembers between packets for one profile and seed."""

    def __init__(self, profile: Profile, seed: int, gone_by: Callable[[float], float] | None = None) -> None:
        self.profile = profile
        self.seed = seed
        self.gone_by = gone_by  # see Lane
        self._lanes: dict[tuple[int, str], Lane] = {}
        self._counts: dict[tuple[object, ...], int] = {}
        self._script_rngs: dict[tuple[int, str, int, int], random.Random] = {}
        # Per direction, the rules and scripts that take it (in profile order): a packet
        # then checks only their matches, and a profile without any costs nothing.
        self._rules: dict[str, list[tuple[int, Rule, bool]]] = {}
        self._scripts: dict[str, list[tuple[int, Script]]] = {}
        self.idle = not (profile.rules or profile.scripts)  # every packet passes untouched

    def _list(self, direction: str) -> list[tuple[int, Rule, bool]]:
        """List the rules (with whether they match everything) and scripts of ``direction``."""
        self._scripts[direction] = [
            (i, s) for i, s in enumerate(self.profile.scripts) if s.direction in (direction, "both")
        ]
        rules = self._rules[direction] = [
            (i, rule, rule.match == Match())
            for i, rule in enumerate(self.profile.rules)
            if rule.direction in (direction, "both")
        ]
        return rules

    def lane(self, p: Packet) -> Lane | None:
        direction = p.direction
        rules = self._rules.get(direction)
        if rules is None:
            rules = self._list(direction)
        for i, rule, matches_all in rules:
            if matches_all or rule.match.matches(p):
                lane = self._lanes.get((i, direction))
                if lane is None:
                    lane = self._lanes[i, direction] = Lane(rule, direction, self.seed, self.gone_by)
                return lane
        return None

    def fired_script(self, p: Packet) -> tuple[int, Script] | None:
        """Count the packet for every script it matches; the first that fires decides."""
        if p.direction not in self._scripts:
            self._list(p.direction)
        fired = None
        for i, script in self._scripts[p.direction]:
            if not script.applies(p):
                continue
            key = (i, p.flow) if script.per == "flow" else (i, p.direction)
            count = self._counts[key] = self._counts.get(key, 0) + 1
            if fired is None and script.fires(count):
                fired = (i, script)
        return fired

    def script_rng(self, index: int, script: Script, p: Packet) -> random.Random:
        key = (index, p.direction, *service(p))
        rng = self._script_rngs.get(key)
        if rng is None:
            rng = self._script_rngs[key] = stream(
                self.seed, "script", script.name, p.direction, "{}/{}".format(*service(p)), "corrupt"
            )
        return rng


def decide(p: Packet, state: State, now: float) -> Decision:
    """The verdicts for packet ``p`` arriving at ``now`` (seconds of the caller's clock).

    The first verdict is the fate (Deliver, Delay, Reorder or Drop); Duplicate and
    Corrupt may follow. Each verdict names the rule or script that decided it.
    """
    if state.idle:
        return PASS
    lane = state.lane(p)
    plan = lane.draw(p) if lane is not None else None
    fired = state.fired_script(p) if state.profile.scripts else None
    if fired is not None:
        return _scripted(*fired, p, state, lane, plan, now)
    if lane is None or plan is None:
        return PASS
    return lane.apply(plan, p, now)


def _scripted(
    index: int, script: Script, p: Packet, state: State, lane: Lane | None, plan: Plan | None, now: float
) -> Decision:
    name = script.name
    if script.action == "drop":
        return (Drop(name, "script"),)
    if script.action == "delay":
        if script.delay_ms <= 0:
            return (Deliver(name),)
        return (Delay(name, now + script.delay_ms / 1000, script.delay_ms),)
    # duplicate and corrupt: the packet otherwise travels as its rule would carry it, unharmed
    if lane is not None and plan is not None:
        fate = lane.apply(plan._replace(lost=None, duplicate=False, corrupt=None), p, now, name)
    else:
        fate = (Deliver(name),)
    if isinstance(fate[0], Drop):  # the rate-limited link's queue is full
        return fate
    if script.action == "duplicate":
        return (fate[0], Duplicate(name))
    if p.length == 0:  # nothing to corrupt: a flipped header bit would be another lesson
        return (fate[0],)
    rng = state.script_rng(index, script, p)
    byte = script.byte if script.byte is not None else rng.randrange(p.length)
    bit = script.bit if script.bit is not None else rng.randrange(8)
    offset = p.payload_at + min(byte, p.length - 1)
    return (fate[0], Corrupt(name, offset, bit, script.corrupt_mode == "detected"))
