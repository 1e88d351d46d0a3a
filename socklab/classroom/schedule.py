"""Which grading slot grades which submission: a queue, hosts that may fail, no I/O.

Every submission is in exactly one place at a time: waiting, running on one host, done,
or given up. A host that fails is out for the rest of the batch, and the submission it
failed on goes back to the front of the queue for another host; so nothing is graded
twice and nothing is lost. A submission that has made ``max_host_failures`` hosts fail
is given up (recorded as a platform error) rather than allowed to take down every host.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field


@dataclass
class Scheduler:
    """The state of a batch over named hosts. Not thread-safe: the caller holds a lock."""

    hosts: tuple[str, ...]
    pending: deque[str] = field(default_factory=deque)
    max_host_failures: int = 2
    running: dict[str, str] = field(default_factory=dict)  # submission -> host
    done: dict[str, str] = field(default_factory=dict)  # submission -> host that graded it
    given_up: dict[str, str] = field(default_factory=dict)  # submission -> why
    dead: dict[str, str] = field(default_factory=dict)  # host -> why it is out
    failures: Counter[str] = field(default_factory=Counter)  # submission -> hosts it failed on

    @classmethod
    def of(cls, hosts: list[str], submissions: list[str], max_host_failures: int = 2) -> Scheduler:
        if not hosts:
            raise ValueError("a batch needs at least one host")
        if len(set(submissions)) != len(submissions):
            raise ValueError("submissions must be unique")
        return cls(tuple(hosts), deque(submissions), max_host_failures)

    def alive(self, host: str) -> bool:
        return host not in self.dead

    def take(self, host: str) -> str | None:
        """The next submission for ``host`` to grade, or None when it gets no more."""
        if not self.alive(host) or not self.pending:
            return None
        submission = self.pending.popleft()
        self.running[submission] = host
        return submission

    def complete(self, host: str, submission: str) -> None:
        """``host`` has graded ``submission`` and its result is safely stored."""
        self._release(host, submission)
        self.done[submission] = host

    def fail(self, host: str, submission: str, reason: str) -> bool:
        """``host`` failed while grading ``submission``: the host is out, the submission
        goes to another. Returns False when the submission is given up instead."""
        self._release(host, submission)
        self.dead.setdefault(host, reason)
        self.failures[submission] += 1
        if self.failures[submission] >= self.max_host_failures:
            self.given_up[submission] = (
                f"{self.failures[submission]} grading hosts failed on this submission; the last: {reason}"
            )
            return False
        # first in line for a live host; with none left it stays pending, reported as not graded
        self.pending.appendleft(submission)
        return True

    def abandon(self, host: str, submission: str, reason: str) -> None:
        """Give ``submission`` up without blaming ``host`` (it cannot be graded or stored)."""
        if self.running.get(submission) == host:
            del self.running[submission]
        self.given_up.setdefault(submission, reason)

    def host_down(self, host: str, reason: str) -> None:
        """``host`` could not even start (connection, missing socklab): it takes nothing."""
        self.dead.setdefault(host, reason)

    def finished(self) -> bool:
        """Nothing is running and either nothing waits or no live host is left to take it."""
        if self.running:
            return False
        return not self.pending or not any(self.alive(h) for h in self.hosts)

    def should_wait(self, host: str) -> bool:
        """A live idle slot with nothing to take waits while others run: their submission
        may come back to the queue if their host fails."""
        return self.alive(host) and not self.pending and bool(self.running)

    def left(self) -> list[str]:
        """Submissions neither graded nor given up (when every host failed)."""
        return [*self.pending, *self.running]

    def _release(self, host: str, submission: str) -> None:
        owner = self.running.get(submission)
        if owner != host:
            raise ValueError(f"{submission} is not running on {host} (it is on {owner})")
        del self.running[submission]
