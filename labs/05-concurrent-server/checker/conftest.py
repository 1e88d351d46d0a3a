"""Lab 5's checker fixtures; the helpers they use are in crowd_probe.py."""

from __future__ import annotations

from typing import Any

import crowd_probe as tools
import pytest

from socklab.checking.programs import STUDENT


@pytest.fixture
def fresh_server(programs):
    """The student's server, started anew: no check inherits another check's clients."""
    programs.start("server")
    programs.wait_ready("server")


@pytest.fixture
def crowd(ctx):
    """Run ``count`` clients at once against the server (see the probe's docstring)."""

    def run(count: int, *, stall: str | None = None, reset: int = 0, size: int = 3000,
            pieces: int = 3) -> dict[str, Any]:
        args = ["clients", "--host", "server", "--port", str(tools.PORT), "--count", str(count),
                "--size", str(size), "--pieces", str(pieces), "--seed", str(ctx.seed or 0),
                "--reset", str(reset), "--timeout", str(tools.BOUND), *(["--stall", stall] if stall else [])]
        return tools.probe(ctx.container("client"), args, timeout=tools.BOUND + 30)

    return run


@pytest.fixture
def usage(ctx):
    """The student's processes in the server container: fds, threads, zombies (and CPU)."""

    def read(seconds: float = 0.0) -> dict[str, Any]:
        return tools.probe(ctx.container("server"), ["usage", "--seconds", str(seconds)], user=STUDENT,
                     timeout=seconds + 30)

    return read


@pytest.fixture
def hold(ctx):
    """``hold(n)``: n clients connected and silent until the check ends."""
    holders: list[tools.Holder] = []

    def start(count: int) -> tools.Holder:
        holders.append(tools.Holder(ctx.container("client"), count))
        return holders[-1]

    yield start
    for holder in holders:
        holder.release()
