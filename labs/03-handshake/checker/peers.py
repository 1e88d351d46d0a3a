"""The checker's own client and server (lab 3's probe, in the lab containers), and the
protocol they hold the student's programs to."""

from __future__ import annotations

import hashlib
from typing import Any

from socklab.checking import observe

PORT = 5000  # the student's server
CHECKER_PORT = 6000  # the checker's own server, when it tests the client
SCRIPT = "handshake.py"


def answer(request: bytes) -> str:
    """The lab's protocol: the server answers a request with its size and SHA-256."""
    return f"{len(request)} {hashlib.sha256(request).hexdigest()}\n"


def probe(container: str, *args: str, timeout: float = 30.0) -> dict[str, Any]:
    """Run lab 3's probe in ``container``; a broken probe is the platform's failure."""
    return observe.probe(container, *args, script=SCRIPT, timeout=timeout)


class ProbeServer(observe.Background):
    """The probe's one-client server in the background: listening once constructed."""

    def __init__(self, container: str, port: int, reply: str, *, pieces: int = 1,
                 gap_ms: float = 0, timeout: float = 5.0, accept_timeout: float = 5.0) -> None:
        args = ["serve", "--port", str(port), "--reply", reply, "--pieces", str(pieces),
                "--gap-ms", str(gap_ms), "--timeout", str(timeout),
                "--accept-timeout", str(accept_timeout)]
        super().__init__(container, args, accept_timeout + timeout + 10, script=SCRIPT)
