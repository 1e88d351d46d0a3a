"""Lab 5's checker helpers: a crowd of clients in the client container, /proc in the server's.

The clients are socklab's probe ``/socklab/concurrent_server.py`` (stdlib, one selector for
all of them). The server's processes are read from /proc as the ``student`` user: the
containers' root has no capabilities, so only the owner may list a process's open files.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections import Counter
from typing import Any

from socklab.checking import expect, observe
from socklab.errors import PlatformError

PORT = 5000
SCRIPT = "concurrent_server.py"
BOUND = 10.0  # seconds for a crowd to be served; a correct server needs well under one
FD_SLACK = 2  # open files a server may gain over a round of clients without leaking
THREAD_SLACK = 10  # threads or processes likewise: a pool may still grow towards its size,
# a leak grows by one per client (20 a round)


def probe(container: str, args: list[str], *, user: str = "0", timeout: float) -> dict[str, Any]:
    """Run lab 5's probe, return its JSON; a probe that breaks is socklab's fault, not the student's."""
    return observe.probe(container, *args, script=SCRIPT, user=user, timeout=timeout)


class Holder:
    """Clients connected and silent, held by the probe until ``release()``."""

    def __init__(self, container: str, count: int) -> None:
        hold = ["hold", "--host", "server", "--port", str(PORT), "--count", str(count),
                "--timeout", str(BOUND)]
        argv = observe.probe_exec(container, SCRIPT, hold, detach_in=True)
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        first = self.proc.stdout.readline() if self.proc.stdout else ""
        if '"holding"' not in first:
            self.proc.kill()
            raise PlatformError(f"the holding probe did not start: {first}{self.proc.communicate()[1]}")
        self.held: dict[str, Any] = json.loads(first)

    def release(self) -> dict[str, Any]:
        """Let the clients go (each closes its side, then waits for the server's close);
        what became of them."""
        if self.proc.returncode is not None:
            return {}
        try:
            out, _ = self.proc.communicate(input="", timeout=30)
        except subprocess.TimeoutExpired as exc:
            self.proc.kill()
            raise PlatformError("the holding probe did not let its clients go") from exc
        lines = out.strip().splitlines()
        return json.loads(lines[-1]) if lines else {}


LABELS = {  # a client that was not served, by the state the probe left it in
    "talking": "still waiting for their echo",
    "closing": "echoed, but the server never closed its side after the client closed",
    "served": "echoed, but then closed by the server while the client still talked",
    "connected": "never got to talk: the time ran out while the others connected",
    "new": "never got to talk: the time ran out while the others connected",
    "failed": "failed with an error",
}


def outcome(client: dict[str, Any]) -> str:
    """What happened to one client, in words a student can act on."""
    got = f"{client['received']} of its {client['expected']} bytes back"
    if client["error"]:
        return f"{client['error']} ({got})"
    return f"{LABELS.get(client['state'], client['state'])} ({got})"


DONE = {  # what counts as served: echoed, then ...
    "closed": ("closed",),  # ... closed by the server once the client closed its side
    "echoed": ("closed", "closing"),  # ... whatever the server did next
    "held": ("served",),  # ... still connected, as the client is
}
AFTER = {
    "closed": ", and its connection closed by the server once the client closed its side",
    "echoed": "",
    "held": ", and its connection left open",
}


def all_served(seen: dict[str, Any], situation: str, *, done: str = "closed") -> None:
    """Every client (but those meant to reset) was echoed, and then came to ``done``."""
    __tracebackhide__ = True
    clients = [c for c in seen["clients"] if c["role"] == "normal"]
    failed = [c for c in clients if c["state"] not in DONE[done] or c["error"]
              or (done == "held" and c["server_closed"])]
    if not failed:
        return
    counts = Counter(LABELS.get(c["state"], c["state"]) for c in failed)
    examples = "\n".join(f"  client {c['index']}: {outcome(c)}" for c in failed[:3])
    expect.fail(f"all {len(clients)} clients served within {BOUND:g} s {situation}: each one's bytes "
                f"echoed back{AFTER[done]}",
                f"{len(clients) - len(failed)} of {len(clients)} served; "
                + ", ".join(f"{n} {label}" for label, n in counts.items()) + f"\n{examples}")


def still_open(client: dict[str, Any], what: str) -> None:
    """The server did not close the connection of a client that kept it open."""
    __tracebackhide__ = True
    if not client["server_closed"] or client["state"] == "closed":
        return
    expect.fail(f"{what}: its connection left open by the server as long as the client keeps "
                "it open", f"the server closed it ({outcome(client)})")


def kept_until_they_left(seen: dict[str, Any], seconds: float) -> None:
    """Clients held silent, then closing: the server kept each open until then, and closed
    its side after theirs."""
    __tracebackhide__ = True
    clients = seen.get("clients", [])
    early = [c for c in clients if c["state"] == "served" and c["server_closed"]]
    late = [c for c in clients if c["state"] not in ("closed", "served")]
    if clients and not early and not late:
        return
    examples = "\n".join(f"  client {c['index']}: {outcome(c)}" for c in (early + late)[:3])
    expect.fail(f"{len(clients) or 'the'} clients, silent for over {seconds:g} s, kept connected "
                "by the server until they close, then closed by the server too",
                f"{len(early)} closed by the server while they were still connected, "
                f"{len(late)} never closed by the server after they closed\n{examples}")


def slow_echoed(seen: dict[str, Any], what: str) -> None:
    """Every byte came back, in order, to the slow reader, then the server's close."""
    __tracebackhide__ = True
    if seen["first_difference"] is None and seen["peer_closed"] and not seen["error"]:
        return
    observed = f"{seen['received']} of {seen['sent']} bytes back"
    if seen["first_difference"] is not None and seen["first_difference"] < seen["received"]:
        observed += f"; the first wrong one is byte {seen['first_difference']}"
    elif seen["received"] < seen["sent"]:
        observed += f"; bytes from {seen['received']} on never came"
    if seen["written"] < seen["sent"]:
        observed += f"; only {seen['written']} could be sent"
    if seen["peer_closed"]:
        observed += " (then the server closed the connection)"
    elif seen["received"] >= seen["sent"]:
        observed += ", but the server did not close the connection after the client closed its side"
    if seen["error"]:
        observed += f" ({seen['error']})"
    expect.fail(f"{what}: all {seen['sent']} bytes echoed back unchanged, then the server "
                "closing the connection", observed)


FLOOD_MEMORY = 64 * 1024  # KiB a server may grow while a client floods it without reading


def memory_bounded(growth: int, which: str, flooded: int) -> None:
    """The server's peak memory grew by less than FLOOD_MEMORY while a client flooded it."""
    __tracebackhide__ = True
    if growth < FLOOD_MEMORY:
        return
    expect.fail(f"your server to stop reading from a client that never reads its echo (or "
                f"to close it) before its memory grows by {FLOOD_MEMORY // 1024} MiB",
                f"the peak memory (VmHWM) of {which} grew by {growth // 1024} MiB while that "
                f"client sent {flooded // 2**20} MiB: it stores everything it cannot send")


def stall_in_place(seen: dict[str, Any], state: str, what: str) -> None:
    """The stalled client got where it should be before the others started."""
    __tracebackhide__ = True
    stall = seen["stall"]
    if stall["state"] == state and not stall["error"]:
        return
    if stall["role"] == "flood" and stall["state"] == "failed" and stall["sent"] > 0:
        return  # cutting off a client that never reads is a fair defence
    expect.fail(f"{what}, in place before the others start", f"that client: {outcome(stall)}")


def released(reading: dict[str, Any], before: dict[str, Any], threads: int | None) -> bool:
    """Back to the open files the server had before, no zombies, no growing crowd of threads."""
    return (reading["fds"] <= before["fds"] + FD_SLACK and not reading["zombies"]
            and (threads is None or reading["threads"] <= threads + THREAD_SLACK))


def expect_released(reading: dict[str, Any], before: dict[str, Any], threads: int | None,
                    what: str) -> None:
    """``released``, or a failure that says which resource stayed behind."""
    __tracebackhide__ = True
    if reading["fds"] > before["fds"] + FD_SLACK:
        expect.fail(f"your server's open file descriptors back to {before['fds']} (+{FD_SLACK}) "
                    f"within 5 s after {what} left",
                    f"{reading['fds']} open, {reading['sockets']} of them sockets (before those "
                    f"clients: {before['fds']}, {before['sockets']} sockets): connections the "
                    "clients closed, whose sockets your server never closed")
    if reading["zombies"]:
        expect.fail(f"no zombie processes within 5 s after {what} left",
                    f"{reading['zombies']} zombies: finished child processes nobody waited for "
                    "(os.waitpid(), or signal.signal(signal.SIGCHLD, signal.SIG_IGN))")
    if threads is not None and reading["threads"] > threads + THREAD_SLACK:
        expect.fail(f"about as many threads and processes after {what} as after the round before "
                    f"({threads}, +{THREAD_SLACK}: a pool may grow a little, a leak grows with "
                    "every client)",
                    f"{reading['threads']}: threads or processes that outlive their client")


def settle(usage, good, timeout: float = 5.0) -> dict[str, Any]:
    """Read the server's processes until ``good(reading)`` or the timeout; the last reading."""
    deadline = time.monotonic() + timeout
    reading = usage()
    while not good(reading) and time.monotonic() < deadline:
        time.sleep(0.2)  # between two readings of /proc, each a docker exec
        reading = usage()
    return reading
