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

    def run(count: int, *, stall: str | None = None, reset: int = 0, size: int = 0,
            pieces: int = 3) -> dict[str, Any]:
        """``size`` 0: each client its own seeded size, 1 byte to 65 537 (see the probe)."""
        args = ["clients", "--host", "server", "--port", str(tools.PORT), "--count", str(count),
                "--size", str(size), "--pieces", str(pieces), "--seed", str(ctx.seed or 0),
                "--reset", str(reset), "--timeout", str(tools.BOUND), *(["--stall", stall] if stall else [])]
        return tools.probe(ctx.container("client"), args, timeout=tools.BOUND + 30)

    return run


@pytest.fixture
def slow_reader(ctx):
    """``slow_reader(size)``: one client sends ``size`` bytes at once, then reads the echo
    slowly, through a small window, with pauses (see the probe's ``slow``)."""

    def run(size: int, pauses: int = 3) -> dict[str, Any]:
        args = ["slow", "--host", "server", "--port", str(tools.PORT), "--size", str(size),
                "--seed", str(ctx.seed or 0), "--pauses", str(pauses), "--timeout", str(tools.BOUND)]
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
