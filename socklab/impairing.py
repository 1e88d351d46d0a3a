"""The host's side of the impairment engine: wait for it, ask it, check it held up.

The engine itself (``socklab/impair/``) runs in the ``impair`` container; this module
talks to it through ``docker exec`` and its control socket, and reads its event log.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

from socklab.errors import PlatformError
from socklab.i18n import _

CONTROL = "/run/socklab-impair.sock"
EVENTS = "impair-events.jsonl"  # in the run's artifacts folder


# The Docker SDK is imported where it is used: the checker process imports this module,
# and importing the SDK alone takes about a second there.


def _logs(container: str) -> str:
    import docker.errors

    from socklab import engine

    try:
        return engine.client().containers.get(container).logs(tail=20).decode(errors="replace")
    except docker.errors.NotFound:
        return "(the container is gone)"


def _state(container: str) -> dict[str, Any]:
    import docker.errors

    from socklab import engine

    try:
        return engine.client().containers.get(container).attrs["State"]
    except docker.errors.NotFound:
        return {"Status": "missing", "ExitCode": None}


def wait_ready(container: str, timeout: float = 30) -> None:
    """Wait until the engine's control socket exists (it is created last: ready)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = _state(container)
        if state["Status"] != "running":
            stopped = _("the impairment engine stopped before it was ready (exit {code}):").format(
                code=state["ExitCode"]
            )
            raise PlatformError(f"{stopped}\n{_logs(container)}")
        probe = subprocess.run(
            ["docker", "exec", container, "test", "-S", CONTROL], capture_output=True, check=False
        )
        if probe.returncode == 0:
            return
        time.sleep(0.1)
    late = _("the impairment engine was not ready within {seconds:g} s:").format(seconds=timeout)
    raise PlatformError(f"{late}\n{_logs(container)}")


def request(container: str, cmd: str, **fields: Any) -> dict[str, Any]:
    """One control request (show, set, reset, stats, log); its reply as a dict."""
    argv = [
        "docker",
        "exec",
        container,
        "python3",
        "-m",
        "socklab.impair.control",
        CONTROL,
        cmd,
        json.dumps(fields),
    ]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    try:
        reply, _end = json.JSONDecoder().raw_decode(out.stdout.lstrip())
    except json.JSONDecodeError:
        raise PlatformError(
            _("the impairment engine did not answer {command}: {output}").format(
                command=repr(cmd), output=(out.stderr or out.stdout).strip()[-500:]
            )
        ) from None
    return reply


# UDP datagrams one way in one second of the engine's clock: no lab's right programs come
# near it (lab 8's window sender: a few hundred); a student's flood goes far past it.
FLOOD = 5_000
# What a flood at the engine's queue shows: the kernel's queue overflowed, not the engine.
FLOOD_OVERLOAD = {"queue_dropped", "user_dropped", "enobufs"}


def check_health(container: str, artifacts: Path | None = None) -> str | None:
    """Raise a PlatformError unless the engine is still running and never overloaded, or
    overloaded by the students' own flood: then the flood in words (their failure).

    A lab that needs impairment must not pass or fail on a link the engine did not
    shape: a stopped engine drops everything, an overloaded one loses packets it
    never decided to lose. But a program that floods the link overloads any engine, on
    demand: that is the program's failure, told by the engine's log, not the platform's.
    """
    state = _state(container)
    if state["Status"] != "running":
        stopped = _("the impairment engine stopped during the checks (exit {code}):").format(
            code=state["ExitCode"]
        )
        raise PlatformError(f"{stopped}\n{_logs(container)}")
    stats = request(container, "stats").get("stats") or {}
    overload = {k: v for k, v in (stats.get("overload") or {}).items() if v}
    if not overload:
        return None
    flooded = flood(events(artifacts)) if artifacts and set(overload) <= FLOOD_OVERLOAD else None
    if flooded is None:
        raise PlatformError(
            _("the impairment engine could not keep up: {overload}").format(overload=overload)
        )
    return _(
        "{flood}: the router's queue overflowed ({overload}), so the link was not the "
        "lab's: a right program sends only the datagrams the lab asks for"
    ).format(flood=flooded, overload=overload)


def flood(records: list[dict[str, Any]]) -> str | None:
    """The busiest second of UDP one way in the engine's log, in words, if over FLOOD."""
    seconds: Counter[tuple[str, int]] = Counter(
        (e["dir"], int(e["t_in"]))
        for e in records
        if e.get("proto") == "udp" and isinstance(e.get("t_in"), (int, float)) and "dir" in e
    )
    if not seconds:
        return None
    (way, _second), most = seconds.most_common(1)[0]
    if most < FLOOD:
        return None
    text = (
        _("the client's programs flooded the link: {count} UDP datagrams in one second")
        if way == "c2s"
        else _("the server's programs flooded the link: {count} UDP datagrams in one second")
    )
    return text.format(count=f"{most:,}")


def events(artifacts: Path) -> list[dict[str, Any]]:
    """The engine's per-packet event log of a run, as records."""
    path = Path(artifacts) / EVENTS
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


class Link:
    """The impaired link of one run, as a checker sees it: change it, read what it did."""

    def __init__(self, container: str, artifacts: Path) -> None:
        self.container = container
        self.artifacts = Path(artifacts)
        self.changed = False

    def _ok(self, cmd: str, **fields: Any) -> dict[str, Any]:
        reply = request(self.container, cmd, **fields)
        if not reply.get("ok"):
            raise PlatformError(
                _("the impairment engine refused {command}: {error}").format(
                    command=f"{cmd} {fields}", error=reply.get("error")
                )
            )
        return reply

    def set(self, **fields: Any) -> int:
        """Change the link (``profile=``, ``config=`` or ``update=``); returns the new version."""
        self.changed = True
        return int(self._ok("set", **fields)["version"])

    def reset(self) -> int:
        """Back to the run's profile and seed."""
        self.changed = False
        return int(self._ok("reset")["version"])

    def stats(self) -> dict[str, Any]:
        return self._ok("stats")["stats"]

    def version(self) -> int:
        return int(self._ok("show")["version"])

    def events(self, version: int | None = None) -> list[dict[str, Any]]:
        """The per-packet decisions so far (of one config version, if given), in the order
        the packets arrived (the log is written as they leave: a delayed one comes later)."""
        self._ok("stats")  # makes the engine flush its log
        return sorted(
            (
                e
                for e in events(self.artifacts)
                if "decision" in e and (version is None or e.get("version") == version)
            ),
            key=lambda e: e["id"],
        )
