"""Lab 4's helpers: drive the framing probe in the lab containers and judge what it saw.

The probe (``socklab/probes/message_framing.py``, at /socklab/ in the containers) talks
to the student's server from the client container, through the router; these helpers
run it with ``docker exec`` and turn what it observed into expected-vs-observed failures.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest
from framing_judge import HEADER, closed_quietly, error_reply, frame, replies_right

from socklab.checking import observe
from socklab.errors import PlatformError
from socklab.i18n import _

SCRIPT = "message_framing.py"
PORT = 5000

def probe(container: str, *args: str, timeout: float = 60.0) -> dict[str, Any]:
    """Run lab 4's probe in ``container``; a broken probe is a platform error, not the student's."""
    return observe.probe(container, *args, script=SCRIPT, timeout=timeout)


class Wire:
    """The checker's client, in the client container, talking to the student's server."""

    def __init__(self, ctx: Any, programs: Any) -> None:
        self.ctx, self.programs = ctx, programs
        self.client, self.server = ctx.container("client"), ctx.container("server")

    def exchange(self, messages: list[str], what: str, *, split: str = "whole",
                 gap_ms: float = 0.0) -> dict[str, Any]:
        """Send ``messages`` as frames cut by ``split``; every reply must be right."""
        __tracebackhide__ = True
        args = ["exchange", "--host", "server", "--port", str(PORT), "--split", split,
                "--gap-ms", str(gap_ms)]
        for message in messages:
            args += ["--message", message]
        seen = probe(self.client, *args)
        if seen["first_difference"] is not None:
            ended = seen["peer_closed"] or "Reset" in (seen["error"] or "")
            replies_right(seen, what, self.server_state(wait=1 if ended else 0))
        return seen

    def raw(self, data: bytes, then: str = "wait", read: int = 0,
            frames: tuple[str, ...] = ()) -> dict[str, Any]:
        """Send ``data``, then M frames of the probe's message SPECs (for large ones)."""
        specs = [arg for spec in frames for arg in ("--frame", spec)]
        return probe(self.client, "raw", "--host", "server", "--port", str(PORT),
                     "--hex", data.hex(), *specs, "--then", then, "--read", str(read))

    def server_state(self, wait: float = 0.0) -> str:
        """Evidence: whether the server process died (given ``wait`` seconds to show it)."""
        proc = self.programs.running.get("server")
        if proc is None:
            return ""
        try:
            code = proc.wait(timeout=wait) if wait else proc.poll()
        except subprocess.TimeoutExpired:
            code = None
        if code is None:
            return ""
        if code == 137:
            return _("the server process exited with code {code} (SIGKILL: did it hit the container's "
                     "512 MiB memory limit?)").format(code=code)
        return _("the server process exited with code {code}").format(code=code)

    @staticmethod
    def header(kind: bytes, length: int) -> bytes:
        return HEADER.pack(kind, length)

    def error_reply(self, data: bytes, reason: str, what: str, *, before: bytes = b"") -> None:
        """Send ``data``; the server must answer ``before`` (the replies to the whole
        messages in ``data``), then the E frame ``reason``, and close."""
        __tracebackhide__ = True
        seen = self.raw(data)
        answered = bytes.fromhex(seen["received"]) == before + frame(b"E", reason.encode())
        ended = seen["ended"] in ("closed", "reset")
        error_reply(seen, reason, what, "" if answered else self.server_state(wait=1 if ended else 0),
                    before=before)

    def half_message(self, data: bytes, what: str, *, before: bytes = b"") -> None:
        """Send whole frames and part of one, then close the sending side: the replies
        ``before`` to the whole ones, none to the part, and the server closes."""
        __tracebackhide__ = True
        closed_quietly(self.raw(data, then="shutdown"), what, self.server_state(), before=before)

    def slow_reader(self, message: str, stall_at: list[int], what: str) -> None:
        """At each stall point: wait until the server is stuck sending, pause it, resume it."""
        __tracebackhide__ = True
        stall = Stall(self.client, message, stall_at)
        try:
            seen = stall.next()
            while "stalled" in seen:
                observe.wait_stuck(self.server, PORT, seen["port"])
                observe.pause_and_resume(self.server)
                stall.go()
                seen = stall.next()
        finally:
            stall.close()
        replies_right(seen, what, self.server_state())

    def memory_growth(self, before: dict[str, tuple[str, int]]) -> tuple[int, str]:
        """The largest rise in a server process's peak memory since ``before`` (KiB, which)."""
        return observe.memory_growth(self.server, before)

    def still_serving(self, after: str) -> None:
        __tracebackhide__ = True
        self.exchange(["text:still there?"],  # not shown
                      _("a message on a new connection, after {after}").format(after=after))

    def memory(self) -> dict[str, tuple[str, int]]:
        """The peak resident memory (VmHWM, KiB) of each of the student's server processes."""
        return observe.student_memory(self.server)

class Stall:
    """The probe's slow reader: it stops reading its reply at set points until told to go on."""

    def __init__(self, container: str, message: str, stall_at: list[int]) -> None:
        args = ["stall", "--host", "server", "--port", str(PORT), "--message", message]
        for point in stall_at:
            args += ["--stall-at", str(point)]
        self.proc = subprocess.Popen(observe.probe_exec(container, SCRIPT, args, detach_in=True),
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)

    def next(self) -> dict[str, Any]:
        """The probe's next report: ``{"stalled": ...}`` while it waits, else its result."""
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        if not line:
            self.proc.kill()
            err = self.proc.stderr.read() if self.proc.stderr else ""
            raise PlatformError(_("the probe's slow reader failed: {error}").format(error=err))
        return json.loads(line)

    def go(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


class FakeServer(observe.Background):
    """The probe's framed server in the server container, for the student's client: it
    answers with ``answer()`` (socklab/probes/message_framing.py), trickled, pauses in the
    middle of reply ``pause_at``'s header, answers message ``bytes_at`` with its bytes
    reversed (as the lab's server does), and message ``error_at`` with the E frame
    ``reason``."""

    def __init__(self, container: str, port: int, timeout: float = 10.0, *, error_at: int = 0,
                 reason: str = "bad kind", pause_at: int = 0, bytes_at: int = 0) -> None:
        super().__init__(container, ["serve", "--port", str(port), "--timeout", str(timeout),
                                     "--error-at", str(error_at), "--reason", reason,
                                     "--pause-at", str(pause_at), "--bytes-at", str(bytes_at)],
                         timeout, script=SCRIPT)


@pytest.fixture
def framed_server(ctx: Any) -> Any:
    """Start the probe's framed server in the server container: ``framed_server(port, ...)``."""
    return lambda port, **how: FakeServer(ctx.container("server"), port, **how)


@pytest.fixture
def wire(ctx: Any, programs: Any) -> Wire:
    """The student's server running (restarted if it died), and the checker's client for it."""
    programs.ensure("server")
    return Wire(ctx, programs)
