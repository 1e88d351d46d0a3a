"""Lab 2's hands: the probe in the lab containers, and runs of the student's pinger
against the checker's own echo server over the impaired link, read from the router's log.

The probe is ``socklab/probes/udp_pinger.py`` (at /socklab/ in the containers). The
judgement of what a run shows is in ``pinging.py``; the fixtures are in ``conftest.py``.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Any

from pinging import PORT, TIMEOUT, Ping, Report, read_output, to_pings, without_strays

from socklab import impairing
from socklab.checking import observe
from socklab.checking.programs import Finished
from socklab.errors import PlatformError
from socklab.i18n import _

SCRIPT = "udp_pinger.py"
# Pings in the run over the lossy link, drawn from the seed: odd counts, so that a loop
# bound off by one either way (or `count ^ 1`) sends a different number of pings.
LOSSY_COUNTS = (9, 11, 13)
MARGIN = 6.0  # seconds a run may take beyond its COUNT timeouts: starting Python in a container
CUT = 10.0  # seconds beyond its COUNT timeouts after which the checker stops a pinger
SETTLE = 5.0  # seconds for the router to let go of what it still holds after a run
# The run over the lossy link has a lost request and a lost reply whatever the seed draws.
# Counted per direction, not per flow: a pinger that opens a socket per ping meets them too.
SCRIPTED_LOSS = [
    {"name": "drop-5th-request", "direction": "c2s", "proto": "udp", "packet": "data", "nth": 5,
     "per": "direction", "action": "drop"},
    {"name": "drop-2nd-reply", "direction": "s2c", "proto": "udp", "packet": "data", "nth": 2,
     "per": "direction", "action": "drop"},
]


def lossy_count(seed: int) -> int:
    """COUNT for the run over the lossy link."""
    return random.Random(f"{seed}:count").choice(LOSSY_COUNTS)


def probe(container: str, *args: str, timeout: float = 30.0) -> dict[str, Any]:
    """Run lab 2's probe; a probe that breaks is socklab's fault, not the student's."""
    return observe.probe(container, *args, script=SCRIPT, timeout=timeout)


class EchoServer(observe.Stoppable):
    """The checker's echo server in the server container; ``stop()`` returns what it got:
    ``received``, and the kind of each datagram it sent (``sent``)."""

    def __init__(self, container: str, strays_after: int | None = None) -> None:
        strays = ["--strays-after", str(strays_after)] if strays_after is not None else []
        super().__init__(container, SCRIPT, ["echo", "--port", str(PORT), *strays],
                         _("the checker's echo server"))


@dataclass
class Run:
    """One run of the student's pinger, what it printed, and what the router saw."""

    count: int
    finished: Finished
    pings: list[Ping]
    wire_problems: list[str]  # why the datagrams cannot be read as pings 1..count
    report: Report
    received: list[dict[str, Any]]
    events: list[dict[str, Any]]  # the router's, less the checker's own late copies


def requests_and_replies(events: list[dict[str, Any]]) -> tuple[int, int]:
    """How many requests to the echo server the router passed, and how many replies it saw."""
    passed = sum(1 for e in events if e["dir"] == "c2s" and e["proto"] == "udp"
                 and e["dport"] == PORT and not e["decision"].startswith("drop"))
    replies = sum(1 for e in events if e["dir"] == "s2c" and e["proto"] == "udp"
                  and e["sport"] == PORT)
    return passed, replies


def settle(link: impairing.Link, version: int) -> list[dict[str, Any]]:
    """The run's events, once the router holds nothing more and every request it passed
    has its reply logged (dropped or sent), or SETTLE s after the pinger ended."""
    deadline = time.monotonic() + SETTLE
    while True:
        events = link.events(version)
        passed, replies = requests_and_replies(events)
        held = impairing.request(link.container, "show").get("held")
        if (held == 0 and replies >= passed) or time.monotonic() > deadline:
            return events
        time.sleep(0.05)


def ping_through(ctx: Any, programs: Any, link: impairing.Link, count: int, *,
                 strays_after: int | None = None, default_count: bool = False,
                 **change: Any) -> Run:
    """Run the pinger against the checker's echo server, on the link ``change`` sets up
    (with ``strays_after``, the server sends late copies of that ping's reply; with
    ``default_count``, the pinger is not told COUNT, and ``count`` is its default)."""
    programs.stop_host("server")  # the echo server needs the port; nothing of the student's stays
    version = link.set(**change)
    echo = EchoServer(ctx.container("server"), strays_after)
    try:
        finished = programs.run("pinger", ["server", str(PORT)] + ([] if default_count
                                                                   else [str(count)]),
                                timeout=count * TIMEOUT + CUT)
        events = settle(link, version)
    finally:
        seen = echo.stop()
    received = seen["received"]
    events = without_strays(events, seen["sent"])
    pings, problems = to_pings(events, received, count)
    passed, replies = requests_and_replies(events)
    if not passed == replies == len(received):
        if len(pings) == count:  # the pinger kept to the protocol: the fault is socklab's
            raise PlatformError(_("the router passed {passed} requests and saw {replies} replies, but "
                                  "the checker's echo server got {got}").format(
                                      passed=passed, replies=replies, got=len(received)))
        problems.append(_("the checker's echo server could not keep up: it got {got} of the {passed} "
                          "requests the router passed").format(got=len(received), passed=passed))
    return Run(count, finished, pings, problems, read_output(finished.stdout, count), received,
               events)
