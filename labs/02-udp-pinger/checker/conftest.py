"""Lab 2's fixtures: the student's server on a clean link, and the run over the lossy one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from probing import COUNT, SCRIPTED_LOSS, Run, ping_through

from socklab import impairing


@pytest.fixture
def clean(impair: impairing.Link, programs: Any) -> None:
    """The student's server running, on a link that loses and delays nothing."""
    impair.set(profile="clean")
    programs.ensure("server")


@pytest.fixture(scope="module")
def lossy(ctx: Any, programs: Any) -> Run:
    """One run of COUNT pings over the lab's lossy link, judged by several checks."""
    link = impairing.Link(ctx.container("impair"), Path(ctx.artifacts))
    try:
        return ping_through(ctx, programs, link, COUNT, update={"script": SCRIPTED_LOSS})
    finally:
        link.reset()
