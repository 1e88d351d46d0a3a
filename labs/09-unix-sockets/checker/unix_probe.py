"""Host-side wrappers around socklab's Unix-socket probe (socklab/probes/unix.py).

The probe runs in the server container, by default as the student user: root there has
no capabilities, so the socket file's permissions apply to it like to anyone else.
Each function returns what the probe observed as a plain dict; the checks judge it.
"""

from __future__ import annotations

import json
from typing import Any

from socklab.checking import observe
from socklab.checking.programs import STUDENT

SCRIPT = "unix.py"
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


def stream(container: str, path: str, lines: list[str], *, chunk: int = 65536, gap: float = 0.0,
           shutdown: bool = False, timeout: float = 5.0) -> dict[str, Any]:
    """Send the lines; read one answer line per line sent (or, with shutdown, until EOF)."""
    pieces = -(-sum(len(line.encode()) + 1 for line in lines) // chunk)
    return probe(container, "stream", "--path", path, "--lines", json.dumps(lines),
                 "--chunk", str(chunk), "--gap", str(gap), "--replies", str(len(lines)),
                 *(["--shutdown"] if shutdown else []), "--timeout", str(timeout),
                 timeout=timeout + pieces * gap * 2 + 20)


def dgram(container: str, path: str, plan: list[tuple[str, str, str]],
          timeout: float = 5.0) -> dict[str, Any]:
    """Send each (client, message, how) of the plan, then read the replies each client gets."""
    return probe(container, "dgram", "--path", path, "--plan", json.dumps(plan),
                 "--timeout", str(timeout), timeout=timeout * 2 + 20)


def describe(file: dict[str, Any]) -> str:
    """A stat result in words, for evidence."""
    if file.get("exists") is False:
        return "no such file"
    if file.get("exists") is None:
        return f"cannot be examined ({file.get('error')})"
    return f"a {file['kind']}, mode {file['mode']}, owner uid {file['uid']} gid {file['gid']}"


def terminate(container: str, argv: list[str]) -> list[int]:
    """Send SIGTERM to the student's processes running exactly ``argv``; their pids."""
    return probe(container, "signal", "--argv", json.dumps(argv), "--signal", "TERM")["signalled"]
