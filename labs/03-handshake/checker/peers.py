"""The checker's own client and server (lab 3's probe, in the lab containers)."""

from __future__ import annotations

import json
from typing import Any

from socklab.checking import observe

PORT = 5000  # the student's server
CHECKER_PORT = 6000  # the checker's own server, when it tests the client
SCRIPT = "handshake.py"


def probe(container: str, *args: str, timeout: float = 30.0) -> dict[str, Any]:
    """Run lab 3's probe in ``container``; a broken probe is the platform's failure."""
    return observe.probe(container, *args, script=SCRIPT, timeout=timeout)


def requests(container: str, plan: list[dict[str, Any]], timeout: float = 5.0,
             host: str = "server") -> list[dict[str, Any]]:
    """Send the plan's requests to the student's server, one connection after another."""
    pauses = sum(sum(item.get("gaps", [])) * (len(item.get("cuts", [])) or 1) for item in plan)
    return probe(container, "request", "--host", host, "--port", str(PORT),
                 "--plan", json.dumps(plan), "--timeout", str(timeout),
                 timeout=pauses + len(plan) * (timeout + 2) + 20)["results"]


class ProbeServer(observe.Background):
    """The probe's one-client server in the background: listening once constructed. It
    answers once the client's FIN came, with ``reply`` cut at the byte offsets ``cuts``,
    ``gaps`` seconds between the pieces, and closes ``hold`` seconds after the last."""

    def __init__(self, container: str, port: int, reply: str, *, cuts: list[int] = (),
                 gaps: list[float] = (), hold: float = 0.0, timeout: float = 5.0,
                 accept_timeout: float = 5.0) -> None:
        args = ["serve", "--port", str(port), "--reply", reply, "--cuts", json.dumps(list(cuts)),
                "--gaps", json.dumps(list(gaps)), "--hold", str(hold), "--timeout", str(timeout),
                "--accept-timeout", str(accept_timeout)]
        super().__init__(container, args, accept_timeout + timeout + sum(gaps) + hold + 10,
                         script=SCRIPT)
