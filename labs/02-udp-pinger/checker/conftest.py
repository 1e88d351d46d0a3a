"""Lab 2's fixtures: the student's server on a clean link, and the run over the lossy one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from probing import SCRIPTED_LOSS, Run, lossy_count, ping_through

from socklab import impairing


@pytest.fixture
def clean(impair: impairing.Link, programs: Any) -> None:
    """The student's server running, on a link that loses and delays nothing."""
    impair.set(profile="clean")
    programs.ensure("server")


@pytest.fixture(scope="module")
def lossy(ctx: Any, programs: Any) -> Run:
    """One run of COUNT pings (9, 11 or 13: the seed says) over the lab's lossy link,
    judged by several checks."""
    link = impairing.Link(ctx.container("impair"), Path(ctx.artifacts))
    try:
        return ping_through(ctx, programs, link, lossy_count(ctx.seed), update={"script": SCRIPTED_LOSS})
    finally:
        link.reset()
