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
from socklab.i18n import N_, _

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
            raise PlatformError(_("the holding probe did not start: {output}").format(
                output=first + self.proc.communicate()[1]))
        self.held: dict[str, Any] = json.loads(first)

    def release(self) -> dict[str, Any]:
        """Let the clients go (each closes its side, then waits for the server's close);
        what became of them."""
        if self.proc.returncode is not None:
            return {}
        try:
            out, _err = self.proc.communicate(input="", timeout=30)
        except subprocess.TimeoutExpired as exc:
            self.proc.kill()
            raise PlatformError(_("the holding probe did not let its clients go")) from exc
        lines = out.strip().splitlines()
        return json.loads(lines[-1]) if lines else {}


LABELS = {  # a client that was not served, by the state the probe left it in
    "talking": N_("still waiting for their echo"),
    "closing": N_("echoed, but the server never closed its side after the client closed"),
    "served": N_("echoed, but then closed by the server while the client still talked"),
    "connected": N_("never got to talk: the time ran out while the others connected"),
    "new": N_("never got to talk: the time ran out while the others connected"),
    "failed": N_("failed with an error"),
}


def label(state: str) -> str:
    """A client's state in the reader's words (a state the probe names otherwise, as it is)."""
    return _(LABELS[state]) if state in LABELS else state


def outcome(client: dict[str, Any]) -> str:
    """What happened to one client, in words a student can act on."""
    got = _("{received} of its {expected} bytes back").format(
        received=client["received"], expected=client["expected"])
    if client["error"]:
        return f"{client['error']} ({got})"
    return f"{label(client['state'])} ({got})"


DONE = {  # what counts as served: echoed, then ...
    "closed": ("closed",),  # ... closed by the server once the client closed its side
    "echoed": ("closed", "closing"),  # ... whatever the server did next
    "held": ("served",),  # ... still connected, as the client is
}
AFTER = {
    "closed": N_(", and its connection closed by the server once the client closed its side"),
    "echoed": "",
    "held": N_(", and its connection left open"),
}


def example(client: dict[str, Any]) -> str:
    return "  " + _("client {index}: {outcome}").format(index=client["index"], outcome=outcome(client))


def all_served(seen: dict[str, Any], situation: str, *, done: str = "closed") -> None:
    """Every client (but those meant to reset) was echoed, and then came to ``done``."""
    __tracebackhide__ = True
    clients = [c for c in seen["clients"] if c["role"] == "normal"]
    failed = [c for c in clients if c["state"] not in DONE[done] or c["error"]
              or (done == "held" and c["server_closed"])]
    if not failed:
        return
    counts = Counter(label(c["state"]) for c in failed)
    examples = "\n".join(example(c) for c in failed[:3])
    expect.fail(_("all {count} clients served within {bound:g} s {situation}: each one's bytes echoed "
                  "back{after}").format(count=len(clients), bound=BOUND, situation=situation,
                                        after=_(AFTER[done]) if AFTER[done] else ""),
                _("{served} of {count} served; ").format(served=len(clients) - len(failed),
                                                         count=len(clients))
                + ", ".join(_("{count} {state}").format(count=n, state=state) for state, n in counts.items())
                + f"\n{examples}")


def still_open(client: dict[str, Any], what: str) -> None:
    """The server did not close the connection of a client that kept it open."""
    __tracebackhide__ = True
    if not client["server_closed"] or client["state"] == "closed":
        return
    expect.fail(_("{what}: its connection left open by the server as long as the client keeps it "
                  "open").format(what=what),
                _("the server closed it ({outcome})").format(outcome=outcome(client)))


def kept_until_they_left(seen: dict[str, Any], seconds: float) -> None:
    """Clients held silent, then closing: the server kept each open until then, and closed
    its side after theirs."""
    __tracebackhide__ = True
    clients = seen.get("clients", [])
    early = [c for c in clients if c["state"] == "served" and c["server_closed"]]
    late = [c for c in clients if c["state"] not in ("closed", "served")]
    if clients and not early and not late:
        return
    examples = "\n".join(example(c) for c in (early + late)[:3])
    if clients:
        expected = _("{count} clients, silent for over {seconds:g} s, kept connected by the server until "
                     "they close, then closed by the server too").format(count=len(clients), seconds=seconds)
    else:
        expected = _("the clients, silent for over {seconds:g} s, kept connected by the server until "
                     "they close, then closed by the server too").format(seconds=seconds)
    expect.fail(expected,
                _("{early} closed by the server while they were still connected, {late} never closed "
                  "by the server after they closed").format(early=len(early), late=len(late))
                + f"\n{examples}")


def slow_echoed(seen: dict[str, Any], what: str) -> None:
    """Every byte came back, in order, to the slow reader, then the server's close."""
    __tracebackhide__ = True
    if seen["first_difference"] is None and seen["peer_closed"] and not seen["error"]:
        return
    observed = _("{received} of {sent} bytes back").format(received=seen["received"], sent=seen["sent"])
    if seen["first_difference"] is not None and seen["first_difference"] < seen["received"]:
        observed += _("; the first wrong one is byte {at}").format(at=seen["first_difference"])
    elif seen["received"] < seen["sent"]:
        observed += _("; bytes from {at} on never came").format(at=seen["received"])
    if seen["written"] < seen["sent"]:
        observed += _("; only {written} could be sent").format(written=seen["written"])
    if seen["peer_closed"]:
        observed += _(" (then the server closed the connection)")
    elif seen["received"] >= seen["sent"]:
        observed += _(", but the server did not close the connection after the client closed its side")
    if seen["error"]:
        observed += f" ({seen['error']})"
    expect.fail(_("{what}: all {sent} bytes echoed back unchanged, then the server closing the "
                  "connection").format(what=what, sent=seen["sent"]), observed)


FLOOD_MEMORY = 64 * 1024  # KiB a server may grow while a client floods it without reading


def memory_bounded(growth: int, which: str, flooded: int) -> None:
    """The server's peak memory grew by less than FLOOD_MEMORY while a client flooded it."""
    __tracebackhide__ = True
    if growth < FLOOD_MEMORY:
        return
    expect.fail(_("your server to stop reading from a client that never reads its echo (or to close "
                  "it) before its memory grows by {limit} MiB").format(limit=FLOOD_MEMORY // 1024),
                _("the peak memory (VmHWM) of {which} grew by {growth} MiB while that client sent "
                  "{flooded} MiB: it stores everything it cannot send").format(
                    which=which, growth=growth // 1024, flooded=flooded // 2**20))


def stall_in_place(seen: dict[str, Any], state: str, what: str) -> None:
    """The stalled client got where it should be before the others started."""
    __tracebackhide__ = True
    stall = seen["stall"]
    if stall["state"] == state and not stall["error"]:
        return
    if stall["role"] == "flood" and stall["state"] == "failed" and stall["sent"] > 0:
        return  # cutting off a client that never reads is a fair defence
    expect.fail(_("{what}, in place before the others start").format(what=what),
                _("that client: {outcome}").format(outcome=outcome(stall)))


def released(reading: dict[str, Any], before: dict[str, Any], threads: int | None) -> bool:
    """Back to the open files the server had before, no zombies, no growing crowd of threads."""
    return (reading["fds"] <= before["fds"] + FD_SLACK and not reading["zombies"]
            and (threads is None or reading["threads"] <= threads + THREAD_SLACK))


def expect_released(reading: dict[str, Any], before: dict[str, Any], threads: int | None,
                    what: str) -> None:
    """``released``, or a failure that says which resource stayed behind."""
    __tracebackhide__ = True
    if reading["fds"] > before["fds"] + FD_SLACK:
        expect.fail(_("your server's open file descriptors back to {fds} (+{slack}) within 5 s after "
                      "{what} left").format(fds=before["fds"], slack=FD_SLACK, what=what),
                    _("{fds} open, {sockets} of them sockets (before those clients: {fds_before}, "
                      "{sockets_before} sockets): connections the clients closed, whose sockets your "
                      "server never closed").format(fds=reading["fds"], sockets=reading["sockets"],
                                                    fds_before=before["fds"],
                                                    sockets_before=before["sockets"]))
    if reading["zombies"]:
        expect.fail(_("no zombie processes within 5 s after {what} left").format(what=what),
                    _("{zombies} zombies: finished child processes nobody waited for (os.waitpid(), "
                      "or signal.signal(signal.SIGCHLD, signal.SIG_IGN))").format(zombies=reading["zombies"]))
    if threads is not None and reading["threads"] > threads + THREAD_SLACK:
        expect.fail(_("about as many threads and processes after {what} as after the round before "
                      "({threads}, +{slack}: a pool may grow a little, a leak grows with every "
                      "client)").format(what=what, threads=threads, slack=THREAD_SLACK),
                    _("{threads}: threads or processes that outlive their client").format(
                        threads=reading["threads"]))


def settle(usage, good, timeout: float = 5.0) -> dict[str, Any]:
    """Read the server's processes until ``good(reading)`` or the timeout; the last reading."""
    deadline = time.monotonic() + timeout
    reading = usage()
    while not good(reading) and time.monotonic() < deadline:
        time.sleep(0.2)  # between two readings of /proc, each a docker exec
        reading = usage()
    return reading
