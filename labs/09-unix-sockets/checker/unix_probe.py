"""Host-side wrappers around socklab's Unix-socket probe (socklab/probes/unix.py).

The probe runs in the server container, by default as the student user: root there has
no capabilities, so the socket file's permissions apply to it like to anyone else.
Each function returns what the probe observed as a plain dict; the checks judge it.
"""

from __future__ import annotations

import base64
import json
import subprocess
from typing import Any

from cases import Generated
from cases import describe_file as describe

from socklab.checking import observe
from socklab.checking.programs import STUDENT
from socklab.errors import PlatformError

SCRIPT = "unix.py"
__all__ = ["describe"]  # and the functions below

GROUP_MEMBER = "2000:1000"  # another user in the student's group (gid 1000)
OUTSIDER = "3000:3000"  # a user outside the student's group


def probe(container: str, *args: str, user: str = STUDENT, timeout: float = 60.0) -> dict[str, Any]:
    """Run lab 9's probe; a probe that breaks is the platform's failure, never the student's."""
    return observe.probe(container, *args, script=SCRIPT, user=user, workdir="/", timeout=timeout)


def stat(container: str, *paths: str) -> dict[str, dict[str, Any]]:
    return probe(container, "stat", *paths)["files"]


def connect(container: str, path: str, kind: str, user: str = STUDENT) -> dict[str, Any]:
    return probe(container, "connect", "--path", path, "--type", kind, user=user)


def wait(container: str, path: str, kind: str, timeout: float) -> dict[str, Any]:
    return probe(container, "wait", "--path", path, "--type", kind, "--timeout", str(timeout))


def stale(container: str, path: str, kind: str) -> dict[str, Any]:
    return probe(container, "stale", "--path", path, "--type", kind)


def stream(container: str, path: str, lines: list[bytes], *, chunk: int = 65536, gap: float = 0.0,
           cuts: list[int] | None = None, gaps: list[float] | None = None, tail: bytes = b"",
           shutdown: bool = False, timeout: float = 5.0) -> dict[str, Any]:
    """Send the lines (then ``tail``, an unfinished line) in ``chunk``-byte pieces ``gap``
    seconds apart, or cut at the offsets ``cuts`` with the pauses ``gaps``; read one answer
    line per line sent (or, with shutdown, until EOF). ``received`` comes back as bytes."""
    size = sum(len(line) + 1 for line in lines) + len(tail)
    pauses = sum(gaps) if gaps else -(-size // chunk) * gap
    specs = [line.spec if isinstance(line, Generated) else b64(line) for line in lines]
    seen = probe(container, "stream", "--path", path, "--lines", json.dumps(specs),
                 "--tail", b64(tail), "--chunk", str(chunk), "--gap", str(gap),
                 *(["--cuts", json.dumps(cuts), "--gaps", json.dumps(gaps or [0])] if cuts else []),
                 "--replies", str(len(lines)), *(["--shutdown"] if shutdown else []),
                 "--timeout", str(timeout), timeout=timeout + pauses * 2 + 20)
    return {**seen, "received": seen["received"].encode("latin-1")}


def dgram(container: str, path: str, plan: list[tuple[str, bytes, str]],
          timeout: float = 5.0) -> dict[str, Any]:
    """Send each (client, message, how) of the plan, then read the replies each client gets
    (``replies`` come back as bytes)."""
    seen = probe(container, "dgram", "--path", path,
                 "--plan", json.dumps([(c, b64(m), how) for c, m, how in plan]),
                 "--timeout", str(timeout), timeout=timeout * 2 + 20)
    for client in seen["clients"].values():
        client["replies"] = [r.encode("latin-1") for r in client["replies"]]
    return seen


def plant(container: str, path: str, kind: str, content: bytes = b"") -> dict[str, Any]:
    """Leave something that is not a socket at ``path`` (as the student user): its stat."""
    return probe(container, "plant", "--path", path, "--kind", kind, "--content", b64(content))["file"]


def jam(container: str, path: str) -> dict[str, Any]:
    """A client that sends lines and never reads the answers, until the server is blocked
    sending them; then it closes (the server's send fails)."""
    return probe(container, "jam", "--path", path, "--timeout", "10", timeout=40)


def clear(container: str, *paths: str) -> None:
    """Remove whatever the checker left at ``paths`` (and a planted link's target)."""
    probe(container, "clear", *paths)


class Holder(observe.Background):
    """A live socket of ``kind`` held at ``path`` by the checker (as the student user) until
    ``release()``; constructed once it is bound."""

    def __init__(self, container: str, path: str, kind: str, timeout: float = 60.0) -> None:
        self.container, self.path, self.kind = container, path, kind
        super().__init__(container, ["hold", "--path", path, "--type", kind, "--timeout", str(timeout)],
                         timeout, script=SCRIPT, user=STUDENT)

    def release(self) -> bool:
        """Ask the holder to let go: True when it was still there, live, to hear it."""
        probe(self.container, "release", "--path", self.path, "--type", self.kind)
        return self.result()["released"]

    def abandon(self) -> None:
        """Let go of the holder, whatever became of it (a check already failed)."""
        try:
            probe(self.container, "release", "--path", self.path, "--type", self.kind)
            self.proc.wait(timeout=10)
        except (PlatformError, subprocess.TimeoutExpired):
            pass
        if self.proc.poll() is None:
            self.proc.kill()


class Linger(observe.Background):
    """A stream client connected to ``path`` (as the student user) with half a line sent,
    waiting for the server to close; constructed once it is connected."""

    def __init__(self, container: str, path: str, timeout: float = 20.0) -> None:
        super().__init__(container, ["linger", "--path", path, "--timeout", str(timeout)],
                         timeout, script=SCRIPT, user=STUDENT)

    def finish(self) -> None:
        """Stop waiting for it: it has served its purpose whatever it saw."""
        try:
            self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def terminate(container: str, argv: list[str]) -> list[int]:
    """Send SIGTERM to the student's processes running exactly ``argv``; their pids."""
    return probe(container, "signal", "--argv", json.dumps(argv), "--signal", "TERM")["signalled"]
