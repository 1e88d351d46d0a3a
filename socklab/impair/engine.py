"""The event loop: packets from NFQUEUE through ``decide`` to verdicts, on time.

Delayed packets wait in a heap keyed by release time (then arrival, so equal times keep
their order). Verdicts collected in one wake-up go out in one send: drops and changed
packets one by one, unchanged accepts as one VERDICT_BATCH when nothing older is held.
The event log's lines of one wake-up go out in one write, after the verdicts, in the
order the packets arrived (their ids): a line is written when its packet's fate is
sealed, so a held packet's line comes after those of packets that came while it waited.

Everything from ``process`` to ``_finish`` runs for every packet, so it avoids what
costs there: no object is made twice, verdicts are tested with ``type(...) is``.
"""

from __future__ import annotations

import bisect
import heapq
import ipaddress
import json
import math
import operator
import selectors
import sys
import time
from collections import Counter, deque
from collections.abc import Callable
from typing import IO, Any, NamedTuple

from socklab.impair import log, nfqueue
from socklab.impair.decide import State, decide
from socklab.impair.model import (
    C2S,
    S2C,
    Corrupt,
    Decision,
    Delay,
    Drop,
    Duplicate,
    Event,
    Packet,
    Profile,
    new_tuple,
)
from socklab.impair.packet import as_received, corrupt, parse
from socklab.impair.profiles import to_table
from socklab.impair.stats import Stats

# Packet lines in one engine's event log. A lab's right programs log a few thousand; past
# this a flood's packets are still decided and counted, not written, and one "log-cut"
# record says where the log stops (the log is read whole by checkers and the report).
LOG_LIMIT = 200_000

_arrival = operator.itemgetter(0)  # an Event's id: the kernel numbers packets as they come
_SEND_CHUNK = 48 * 1024  # bytes of verdicts per send, well below the socket's send buffer
# Releases this late count as on time for a rate limit's queue: the engine's usual
# precision. Later ones keep the packets in the queue (decide.Lane), the bound on the wire.
ON_TIME = 0.001
PROGRESS_KEPT = 8192  # flushes remembered for gone_by: seconds of them


class Pending(NamedTuple):
    """A packet decided but not yet given its verdict: its ``Event`` but for ``t_out``."""

    id: int
    packet: Packet | None  # None: a packet that could not be parsed, passed as it is
    decision: Decision
    t_in: float
    planned: float
    version: int
    payload: bytes | None  # the changed packet to send instead of the original
    copy: bytes | None  # a duplicate to inject after it
    t_read: float | None  # when the engine read it (None: t_in, no kernel timestamp)


def direction_of(client_net: ipaddress.IPv4Network) -> Callable[[bytes], str]:
    """Client to server when the source address is in the client's subnet."""
    net, mask = int(client_net.network_address), int(client_net.netmask)

    def direction(packet: bytes) -> str:
        return C2S if int.from_bytes(packet[12:16], "big") & mask == net else S2C

    return direction


class Engine:
    """Owns the queue, the decision state, the held packets, the log and the statistics."""

    def __init__(
        self,
        queue: nfqueue.Queue,
        injector: nfqueue.Injector,
        profile: Profile,
        seed: int,
        client_net: ipaddress.IPv4Network,
        log_file: IO[str] | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.queue, self.injector, self.clock, self.wall = queue, injector, clock, wall
        self.wall_offset = 0.0  # clock() - wall(), taken each wake-up: kernel stamps are wall time
        self.direction = direction_of(client_net)
        self.log_file = log_file
        self.recent: deque[Event] = deque(maxlen=2000)
        self.start = (profile, seed)
        self.version = 0
        self.held: list[tuple[float, int, Pending]] = []
        self.held_ids: list[int] = []  # min-heap with lazy deletion: ids in ``released``
        self.released: set[int] = set()
        self.stopping = False
        self.overload: Counter[str] = Counter()  # for the engine's life, across versions
        self._order = 0
        self._drops: list[bytes] = []
        self._dropped: list[Event] = []  # their events, logged with the wake-up's others
        self._out: list[Pending] = []  # released, in order, awaiting their verdicts
        self._lines: list[str] = []  # event log lines awaiting the end of the wake-up
        self.logged = 0  # packet lines written or waiting, at most LOG_LIMIT
        self._sent_at: list[float] = []  # when each recent flush went out ...
        self._sent_through: list[float] = []  # ... and the planned release it had made all up to
        self.configure(profile, seed, "start")

    # --- configuration (runtime changes come through control.py)

    def configure(self, profile: Profile, seed: int, by: str) -> int:
        """Swap in a new profile and seed between two packets; return the new version."""
        self.version += 1
        self.profile, self.seed = profile, seed
        self.state = State(profile, seed, self.gone_by)
        self.stats = Stats(profile, overload=self.overload)
        self.write(
            {
                "event": "config",
                "t": round(self.clock(), 6),
                "version": self.version,
                "by": by,
                "seed": seed,
                "profile": profile.name,
                "config": to_table(profile),
            }
        )
        return self.version

    def write(self, record: dict[str, Any]) -> None:
        """Log a record now, after the packets' lines still waiting."""
        self._lines.append(json.dumps(record, separators=(",", ":")))
        self._write_lines()

    def _write_lines(self) -> None:
        """One write for many lines: a text file's write costs about a microsecond a call."""
        lines, self._lines = self._lines, []
        if self.log_file is None or not lines:
            return
        try:
            self.log_file.write("\n".join(lines) + "\n")
        except OSError as exc:
            self._log_failed(exc)

    def _log_failed(self, exc: OSError) -> None:
        """Keep impairing without a log, and say so: the run lacks its evidence."""
        self.overload["log_failed"] += 1
        print(
            f"socklab-impair: the event log failed, no more events are written: {exc}",
            file=sys.stderr,
            flush=True,
        )
        self.log_file = None

    # --- packets

    def on_readable(self) -> None:
        self.release_due()
        self.receive()
        self.release_due()

    def receive(self) -> None:
        """Read and decide what the kernel has queued."""
        process, clock = self.process, self.clock
        self.wall_offset = clock() - self.wall()
        for queued in self.queue.receive():
            process(queued, clock())

    def process(self, queued: nfqueue.Queued, now: float) -> None:
        """Decide a packet the engine read at ``now``, as of when the kernel received it.

        With the kernel's timestamp, time spent in the kernel's queue before the engine
        read the packet counts in its delay: it is released at arrival + hold (at once if
        that is past), and a packet passed unchanged is late by that wait.
        """
        packet_id, data, stamp = queued.id, queued.payload, queued.stamp
        t_read: float | None = None
        if stamp:
            t_read, arrived = now, stamp + self.wall_offset
            if arrived < now:  # never later than read: the wall clock may have stepped
                now = arrived
        try:
            packet = parse(data, self.direction(data))
        except ValueError:  # not IPv4 (the rule is iptables, not ip6tables): pass it
            self.stats.overload["unparsed"] += 1
            self._out.append(Pending(packet_id, None, (), now, now, self.version, None, None, t_read))
            return
        decision = decide(packet, self.state, now)
        fate = decision[0]
        kind = type(fate)
        if kind is Drop:
            self._drops.append(nfqueue.verdict(self.queue.number, packet_id, False))
            self._dropped.append(
                new_tuple(Event, (packet_id, packet, decision, now, None, self.version, None, t_read))
            )
            return
        payload = copy = None
        if len(decision) > 1:
            if any(type(v) is Corrupt for v in decision):
                decision = as_received(decision, data)
            for v in decision[1:]:
                if type(v) is Corrupt:
                    payload = corrupt(data, v.offset, v.bit, v.detected)
                elif type(v) is Duplicate:
                    copy = data
        if kind is Delay:
            until = fate.until  # type: ignore[union-attr]
            pending = new_tuple(
                Pending, (packet_id, packet, decision, now, until, self.version, payload, copy, t_read)
            )
            self._order += 1
            heapq.heappush(self.held, (until, self._order, pending))
            heapq.heappush(self.held_ids, packet_id)
        else:
            self._out.append(
                new_tuple(
                    Pending, (packet_id, packet, decision, now, now, self.version, payload, copy, t_read)
                )
            )

    def release_due(self) -> None:
        held = self.held
        if not held:  # nothing to release: spare the clock (this runs three times a wake-up)
            return
        now = self.clock()
        while held and held[0][0] <= now:
            pending = heapq.heappop(held)[2]
            self.released.add(pending.id)
            self._out.append(pending)

    def oldest_held(self) -> float:
        while self.held_ids and self.held_ids[0] in self.released:
            self.released.discard(heapq.heappop(self.held_ids))
        return self.held_ids[0] if self.held_ids else float("inf")

    def flush(self) -> None:
        """Send the verdicts collected, in release order; each duplicate right after its original.

        A batch verdict must not cover a packet still held or one released later in this
        flush, so its limit is the oldest of those.
        """
        out, q = self._out, self.queue.number
        if not (self._drops or out):
            return
        changed: list[bytes] = []
        ids: list[int] = []
        for pending in out:
            if pending.copy is not None:
                self._send_with_copies(out)
                break
            if pending.payload is None:
                ids.append(pending.id)
            else:
                changed.append(nfqueue.verdict(q, pending.id, True, pending.payload))
        else:  # no duplicate (nearly always): one send, drops, changed packets, accepts
            self._send(
                self._drops + changed + nfqueue.accepts(q, ids, self.oldest_held()) if out else self._drops
            )
        t_out = self.clock()
        events = self._dropped + [
            new_tuple(Event, (p.id, p.packet, p.decision, p.t_in, t_out, p.version, p.planned, p.t_read))
            for p in out
            if p.packet is not None
        ]
        if len(events) > 1:
            events.sort(key=_arrival)  # drops, passes and releases of this wake-up, interleaved
        self._finish(events)
        self._drops, self._dropped, self._out = [], [], []
        self._progress(t_out)
        self._write_lines()

    def _progress(self, sent: float) -> None:
        """Remember that at ``sent`` every packet planned before the oldest still held, and
        up to ``sent``, had left: ``gone_by`` looks it up."""
        self._sent_at.append(sent)
        self._sent_through.append(min(sent, self.held[0][0]) if self.held else sent)
        if len(self._sent_at) > PROGRESS_KEPT:
            del self._sent_at[: PROGRESS_KEPT // 2], self._sent_through[: PROGRESS_KEPT // 2]

    def gone_by(self, t: float) -> float:
        """The latest planned release made by time ``t``, give or take ON_TIME: a rate
        limit's queue counts what is still in the router (see decide.Lane)."""
        i = bisect.bisect_right(self._sent_at, t)
        return self._sent_through[i - 1] + ON_TIME if i else -math.inf

    def _send_with_copies(self, out: list[Pending]) -> None:
        """Send up to each duplicate's original, inject the duplicate, go on."""
        q = self.queue.number
        limit = [self.oldest_held()] * (len(out) + 1)
        for i in range(len(out) - 1, -1, -1):
            limit[i] = min(limit[i + 1], out[i].id)
        messages, ids = self._drops, []
        for i, pending in enumerate(out):
            if pending.payload is None:
                ids.append(pending.id)
            else:
                messages.append(nfqueue.verdict(q, pending.id, True, pending.payload))
            if pending.copy is not None or i == len(out) - 1:
                self._send(messages + nfqueue.accepts(q, ids, limit[i + 1]))
                if pending.copy is not None and not self.injector.send(pending.copy):
                    self.stats.overload["inject_failed"] += 1
                messages, ids = [], []

    def _send(self, messages: list[bytes]) -> None:
        data = b"".join(messages)
        if len(data) <= _SEND_CHUNK:  # the usual case: the loop below would send it whole
            if data:
                self.queue.send(data)
            return
        chunk: list[bytes] = []
        size = 0
        for m in messages:
            if size + len(m) > _SEND_CHUNK and chunk:
                self.queue.send(b"".join(chunk))
                chunk, size = [], 0
            chunk.append(m)
            size += len(m)
        if chunk:
            self.queue.send(b"".join(chunk))

    def _finish(self, events: list[Event]) -> None:
        """Remember, count and log events whose fate is sealed (many at once: fewer calls)."""
        self.recent.extend(events)
        record, version = self.stats.record, self.version
        for event in events:
            if event.version == version:
                record(event)
        if self.log_file is not None and self.logged <= LOG_LIMIT:
            room = LOG_LIMIT - self.logged
            self._lines += map(log.to_json, events[:room])
            self.logged += min(room, len(events))
            if len(events) > room:
                self.logged += 1  # past the limit: the cut is said once
                self._lines.append(
                    json.dumps(
                        {"event": "log-cut", "t": round(self.clock(), 6), "after": LOG_LIMIT},
                        separators=(",", ":"),
                    )
                )

    # --- the loop

    def timeout(self) -> float | None:
        if not self.held:
            return 0.25  # housekeeping: flush the log, read the kernel's counters
        return min(max(self.held[0][0] - self.clock(), 0.0), 0.25)

    def housekeeping(self) -> None:
        self.stats.overload["enobufs"] = self.queue.enobufs
        for key, value in nfqueue.counters(self.queue.number).items():
            if key in ("queue_dropped", "user_dropped"):
                self.stats.overload[key] = value
        self._write_lines()
        if self.log_file is not None:
            try:
                self.log_file.flush()
            except OSError as exc:
                self._log_failed(exc)

    def run(self, selector: selectors.BaseSelector) -> None:
        """Serve until ``stopping`` is set; ``selector`` also carries control sockets.

        Each registered key's data is a callable to run when its file is readable.
        """
        selector.register(self.queue.fileno(), selectors.EVENT_READ, self.on_readable)
        last = self.clock()
        while not self.stopping:
            for key, _events in selector.select(self.timeout()):
                key.data()
            self.release_due()
            self.flush()
            if self.clock() - last >= 0.25:
                self.housekeeping()
                last = self.clock()
        selector.unregister(self.queue.fileno())

    def drain(self, limit: float) -> int:
        """Release what is held on time for up to ``limit`` seconds, then the rest at once.

        Call after the NFQUEUE rule is gone: nothing new arrives. Returns how many
        packets left early.
        """
        deadline = self.clock() + limit
        while self.held and self.clock() < deadline:
            time.sleep(min(max(self.held[0][0] - self.clock(), 0.0), 0.01))
            self.receive()  # queued just before the rule went
            self.release_due()
            self.flush()
        early = len(self.held)
        while self.held:
            pending = heapq.heappop(self.held)[2]
            self.released.add(pending.id)
            self._out.append(pending)
        self.flush()
        self.housekeeping()
        return early
