"""Lab 3's fixtures: exchanges between the student's programs captured on the router, and
the student's client run against the checker's own server.

The helpers live beside this file: ``capture.py`` (tcpdump on the router, ladders),
``peers.py`` (the checker's own client and server), ``pcap.py``, ``conversation.py`` and
``ladder.py`` (reading a capture, judging it, drawing it).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from capture import BOUND, Exchange, Ladders, RouterCapture, client_output
from peers import CHECKER_PORT, PORT, ProbeServer

from socklab.checking import expect


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
    return converse("exchange", "the exchange: your client -> your server",
                    f"hello from the client, run {ctx.seed}")


@pytest.fixture
def against_checker(ctx, programs):
    """Run the student's client against the checker's server: (what the server saw, the run)."""

    def run(message: str, reply: str, pieces: int = 1, gap_ms: float = 0):
        __tracebackhide__ = True
        programs.stop_host("server")  # the checker's server stands in for the student's
        # The server waits for the client as long as the client may run: a loaded machine
        # can take seconds just to start it.
        server = ProbeServer(ctx.container("server"), CHECKER_PORT, reply, pieces=pieces,
                             gap_ms=gap_ms, timeout=5, accept_timeout=BOUND + 4)
        finished = programs.run("client", ["server", str(CHECKER_PORT), message],
                                timeout=BOUND + 4)
        seen = server.result()
        if not seen["connected"]:
            expect.fail(f"the client to connect to server:{CHECKER_PORT}", seen["error"],
                        client_output(finished))
        return seen, finished

    return run
