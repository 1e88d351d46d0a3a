"""Lab 3's fixtures: exchanges between the student's programs captured on the router, and
the student's client run against the checker's own server.

The helpers live beside this file: ``capture.py`` (tcpdump on the router, ladders),
``peers.py`` (the checker's own client and server), ``pcap.py``, ``conversation.py`` and
``ladder.py`` (reading a capture, judging it, drawing it).
"""

from __future__ import annotations

from pathlib import Path

import cases
import pytest
from capture import BOUND, Exchange, Ladders, RouterCapture, client_output
from peers import CHECKER_PORT, PORT, ProbeServer

from socklab.checking import expect
from socklab.i18n import _


@pytest.fixture(scope="session")
def ladders(ctx):
    return Ladders(Path(ctx.artifacts))


@pytest.fixture(scope="session")
def converse(ctx, programs, ladders):
    """Run the student's client against their server once, captured on the router."""

    def exchange(name: str, title: str, message: str, bound: float = BOUND) -> Exchange:
        programs.ensure("server")
        with RouterCapture(ctx, name, PORT) as capture:
            run = programs.run("client", ["server", str(PORT), message], timeout=bound)
        conns = capture.connections()
        return Exchange(run, conns, ladders.draw(title, conns))

    return exchange


@pytest.fixture(scope="module")
def exchange(ctx, converse):
    """One request and reply between the student's client and server, shared by the checks
    that judge its segments."""
    return converse("exchange", _("the exchange: your client -> your server"),
                    f"hello from the client, run {ctx.seed}")  # not shown: the MESSAGE, data


@pytest.fixture(scope="module")
def against_checker(ctx, programs):
    """Run the student's client against the checker's server: (what the server saw, the run).

    The server answers only after the client's FIN, with ``reply`` cut at the byte offsets
    ``cuts``, ``gaps`` seconds between the pieces, and closes ``hold`` seconds later."""

    def run(message: str, reply: str, *, cuts=(), gaps=(), hold: float = 0.0):
        __tracebackhide__ = True
        programs.stop_host("server")  # the checker's server stands in for the student's
        # The server waits for the client as long as the client may run: a loaded machine
        # can take seconds just to start it.
        slow = sum(gaps) + hold
        server = ProbeServer(ctx.container("server"), CHECKER_PORT, reply, cuts=cuts, gaps=gaps,
                             hold=hold, timeout=5, accept_timeout=BOUND + 4 + slow)
        finished = programs.run("client", ["server", str(CHECKER_PORT), message],
                                timeout=BOUND + 4 + slow)
        seen = server.result()
        if not seen["connected"]:
            expect.fail(_("the client to connect to server:{port}").format(port=CHECKER_PORT),
                        cases.said(seen["error"]) or _("no connection"),
                        client_output(finished))
        return seen, finished

    return run


@pytest.fixture(scope="module")
def slow_reply(ctx, against_checker):
    """The student's client, given a long multi-byte MESSAGE, against a server that answers
    in pieces (one pause over a second) and closes a while after its last byte: (the
    message, the reply sent, what the server saw, the client's run)."""
    message = cases.client_message(ctx.seed + 3)
    reply, cuts, gaps, hold = cases.reply_for_client(ctx.seed + 4, message.encode())
    seen, run = against_checker(message, reply, cuts=cuts, gaps=gaps, hold=hold)
    return message, reply, seen, run
