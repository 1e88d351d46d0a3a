"""The event loop: packets from NFQUEUE through ``decide`` to verdicts, on time.

Delayed packets wait in a heap keyed by release time (then arrival, so equal times keep
their order). Verdicts collected in one wake-up go out in one send: drops and changed
packets one by one, unchanged accepts as one VERDICT_BATCH when nothing older is held.
"""

from __future__ import annotations

import heapq
import ipaddress
import json
import selectors
import sys
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

from socklab.impair import log, nfqueue
from socklab.impair.decide import State, decide
from socklab.impair.model import C2S, S2C, Corrupt, Delay, Drop, Duplicate, Event, Profile
from socklab.impair.packet import corrupt, parse
from socklab.impair.profiles import to_table
from socklab.impair.stats import Stats

_SEND_CHUNK = 48 * 1024  # bytes of verdicts per send, well below the socket's send buffer


@dataclass(slots=True)
class Pending:
    """A packet decided but not yet given its verdict."""

    id: int
    event: Event | None  # None: a packet that could not be parsed, passed as it is
    payload: bytes | None  # the changed packet to send instead of the original
    copy: bytes | None  # a duplicate to inject after it


def direction_of(client_net: ipaddress.IPv4Network) -> Callable[[bytes], str]:
    """Client to server when the source address is in the client's subnet."""
    net, mask = int(client_net.network_address), int(client_net.netmask)

    def direction(packet: bytes) -> str:
        return C2S if int.from_bytes(packet[12:16], "big") & mask == net else S2C
    return direction


class Engine:
    """Owns the queue, the decision state, the held packets, the log and the statistics."""

    def __init__(self, queue: nfqueue.Queue, injector: nfqueue.Injector, profile: Profile,
                 seed: int, client_net: ipaddress.IPv4Network, log_file: IO[str] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.queue, self.injector, self.clock = queue, injector, clock
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
        self._out: list[Pending] = []  # released, in order, awaiting their verdicts
        self.configure(profile, seed, "start")

    # --- configuration (runtime changes come through control.py)

    def configure(self, profile: Profile, seed: int, by: str) -> int:
        """Swap in a new profile and seed between two packets; return the new version."""
        self.version += 1
        self.profile, self.seed = profile, seed
        self.state = State(profile, seed)
        self.stats = Stats(profile, overload=self.overload)
        self.write({"event": "config", "t": round(self.clock(), 6), "version": self.version,
                    "by": by, "seed": seed, "profile": profile.name, "config": to_table(profile)})
        return self.version

    def write(self, record: dict[str, Any]) -> None:
        self._log(json.dumps(record, separators=(",", ":")))

    def _log(self, line: str) -> None:
        if self.log_file is None:
            return
        try:
            self.log_file.write(line + "\n")
        except OSError as exc:
            self._log_failed(exc)

    def _log_failed(self, exc: OSError) -> None:
        """Keep impairing without a log, and say so: the run lacks its evidence."""
        self.overload["log_failed"] += 1
        print(f"socklab-impair: the event log failed, no more events are written: {exc}",
              file=sys.stderr, flush=True)
        self.log_file = None

    # --- packets

    def on_readable(self) -> None:
        self.release_due()
        for queued in self.queue.receive():
            self.process(queued, self.clock())
        self.release_due()

    def process(self, queued: nfqueue.Queued, now: float) -> None:
        try:
            packet = parse(queued.payload, self.direction(queued.payload))
        except ValueError:  # not IPv4 (the rule is iptables, not ip6tables): pass it
            self.stats.overload["unparsed"] += 1
            self._out.append(Pending(queued.id, None, None, None))
            return
        decision = decide(packet, self.state, now)
        fate = decision[0]
        if isinstance(fate, Drop):
            self._drops.append(nfqueue.verdict(self.queue.number, queued.id, False))
            self._finish(Event(queued.id, packet, decision, now, None, self.version))
            return
        payload = copy = None
        for v in decision[1:]:
            if isinstance(v, Corrupt):
                payload = corrupt(queued.payload, v.offset, v.bit, v.detected)
            elif isinstance(v, Duplicate):
                copy = queued.payload
        planned = fate.until if isinstance(fate, Delay) else now
        pending = Pending(queued.id, Event(queued.id, packet, decision, now, None, self.version,
                                           planned), payload, copy)
        if isinstance(fate, Delay):
            self._order += 1
            heapq.heappush(self.held, (fate.until, self._order, pending))
            heapq.heappush(self.held_ids, queued.id)
        else:
            self._out.append(pending)

    def release_due(self) -> None:
        now = self.clock()
        while self.held and self.held[0][0] <= now:
            pending = heapq.heappop(self.held)[2]
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
        if messages:  # drops only
            self._send(messages)
        t_out = self.clock()
        for pending in out:
            e = pending.event
            if e is not None:
                self._finish(Event(e.id, e.packet, e.decision, e.t_in, t_out, e.version,
                                   e.planned))
        self._drops, self._out = [], []

    def _send(self, messages: list[bytes]) -> None:
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

    def _finish(self, event: Event) -> None:
        self.recent.append(event)
        if event.version == self.version:
            self.stats.record(event)
        if self.log_file is not None:
            self._log(log.to_json(event))

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
            for queued in self.queue.receive():  # queued just before the rule went
                self.process(queued, self.clock())
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
