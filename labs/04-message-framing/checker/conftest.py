"""Lab 4's helpers: drive the framing probe in the lab containers and judge what it saw.

The probe (``socklab/probes/message_framing.py``, at /socklab/ in the containers) talks
to the student's server from the client container, through the router; these helpers
run it with ``docker exec`` and turn what it observed into expected-vs-observed failures.
"""

from __future__ import annotations

import json
import struct
import subprocess
from typing import Any

import pytest

from socklab.checking import expect, observe
from socklab.errors import PlatformError

SCRIPT = "message_framing.py"
PORT = 5000
MAX_SIZE = 1024 * 1024
HEADER = struct.Struct("!cI")

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

    def raw(self, data: bytes, then: str = "wait") -> dict[str, Any]:
        return probe(self.client, "raw", "--host", "server", "--port", str(PORT),
                     "--hex", data.hex(), "--then", then)

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
        killed = " (SIGKILL: did it hit the container's 512 MiB memory limit?)" if code == 137 else ""
        return f"the server process exited with code {code}{killed}"

    @staticmethod
    def header(kind: bytes, length: int) -> bytes:
        return HEADER.pack(kind, length)

    def error_reply(self, data: bytes, reason: str, what: str) -> None:
        """Send ``data``; the server must answer the E frame ``reason`` and close."""
        __tracebackhide__ = True
        seen = self.raw(data)
        answered = bytes.fromhex(seen["received"]) == HEADER.pack(b"E", len(reason)) + reason.encode()
        ended = seen["ended"] in ("closed", "reset")
        error_reply(seen, reason, what, "" if answered else self.server_state(wait=1 if ended else 0))

    def half_message(self, data: bytes, what: str) -> None:
        """Send part of a frame, then close the sending side: no reply, the server closes."""
        __tracebackhide__ = True
        closed_quietly(self.raw(data, then="shutdown"), what, self.server_state())

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
        self.exchange(["text:still there?"], f"a message on a new connection, after {after}")

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
            raise PlatformError(f"the probe's slow reader failed: {err}")
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
    """The probe's framed server in the server container, for the student's client."""

    def __init__(self, container: str, port: int, timeout: float = 10.0) -> None:
        super().__init__(container, ["serve", "--port", str(port), "--timeout", str(timeout)],
                         timeout, script=SCRIPT)


def replies_right(seen: dict[str, Any], what: str, evidence: str = "") -> None:
    """Every reply came back: an M frame holding its message reversed, in order."""
    __tracebackhide__ = True
    if seen["first_difference"] is None:
        return
    count, diff = seen["replies"], seen["first_difference"]
    observed = f"{seen['complete_replies']} of {count} replies right"
    if diff < seen["received"] and seen["reply"] < count:
        observed += (f"; reply {seen['reply'] + 1} differs at its {seen['part']}: expected "
                     f"{seen['expected_at']}, got {seen['got_at']} (hex)")
    elif diff < seen["received"]:
        observed += f"; {seen['received'] - seen['expected']} bytes more than the replies"
    else:
        observed += (f"; reply {seen['reply'] + 1} stopped at its {seen['part']} "
                     f"({seen['received']} of {seen['expected']} reply bytes came back)")
    if "got_header" in seen:
        head = seen["got_header"]
        observed += f"; that reply's header says kind {head['kind']!r}, length {head['length']}"
        if "got_error" in seen:
            observed += f", error {seen['got_error']!r}"
    if seen.get("written", seen.get("stream", 0)) < seen.get("stream", 0):
        observed += f"; only {seen['written']} of {seen['stream']} bytes could be sent"
    if seen["error"]:
        observed += f" ({seen['error']})"
    elif seen["peer_closed"]:
        observed += " (then the server closed the connection)"
    replies = "its reply, an M frame" if count == 1 else f"{count} replies, each an M frame"
    expect.fail(f"{what}: {replies} holding the message reversed", observed, evidence)


def describe(got: bytes) -> str:
    """Bytes from the server, read as frames where they can be."""
    if not got:
        return "no bytes"
    if len(got) < HEADER.size:
        return f"{len(got)} bytes ({got.hex()}), less than a header"
    kind, length = HEADER.unpack(got[:HEADER.size])
    body = got[HEADER.size:HEADER.size + min(length, 64)]
    return (f"a frame of kind {kind.decode('latin-1')!r}, length {length}, payload {body!r}"
            + (f" and {len(got)} bytes in all" if len(got) != HEADER.size + length else ""))


def ending(seen: dict[str, Any]) -> str:
    if seen["error"]:
        return seen["error"]
    return {"closed": "then the server closed the connection",
            "reset": "then the server reset the connection"}.get(seen["ended"], seen["ended"])


def error_reply(seen: dict[str, Any], reason: str, what: str, evidence: str = "") -> None:
    """The server answered with the E frame ``reason`` and closed the connection."""
    __tracebackhide__ = True
    got = bytes.fromhex(seen["received"])
    expected = HEADER.pack(b"E", len(reason)) + reason.encode()
    if got == expected and seen["ended"] in ("closed", "reset"):
        return
    expect.fail(f"{what}: the error frame E {reason!r} ({expected.hex()}), then the server "
                "closing the connection", f"{describe(got)}; {ending(seen)}", evidence)


def closed_quietly(seen: dict[str, Any], what: str, evidence: str = "") -> None:
    """No reply to half a message: the server just closed its side."""
    __tracebackhide__ = True
    got = bytes.fromhex(seen["received"])
    if not got and seen["ended"] in ("closed", "reset"):
        return
    expect.fail(f"{what}: no reply (there is no whole message to answer), and the server "
                "closing the connection", f"{describe(got)}; {ending(seen)}", evidence)


@pytest.fixture
def framed_server(ctx: Any) -> Any:
    """Start the probe's framed server in the server container: ``framed_server(port)``."""
    return lambda port: FakeServer(ctx.container("server"), port)


@pytest.fixture
def wire(ctx: Any, programs: Any) -> Wire:
    """The student's server running (restarted if it died), and the checker's client for it."""
    programs.ensure("server")
    return Wire(ctx, programs)
