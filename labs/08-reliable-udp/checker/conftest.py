"""Lab 8's checker fixtures; the transfers they run are in transfer.py."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from transfer import Transfers

from socklab import impairing


@pytest.fixture
def transfers(ctx, programs, impair):
    """Run transfers through the link as this check sets it (reset after the check)."""
    return Transfers(ctx, programs, impair)


@pytest.fixture(scope="module")
def stop_and_wait(ctx, programs):
    """The stop-and-wait transfer through the rdt link, captured: two checks judge it."""
    link = impairing.Link(ctx.container("impair"), Path(ctx.artifacts))
    try:
        size = random.Random(f"{ctx.seed}:saw-size").randint(90_000, 110_000)
        return Transfers(ctx, programs, link).run(
            "stop-and-wait", size, "stop-and-wait",
            f"a {size}-byte file, stop-and-wait, through the rdt link", bound=90,
            link={"profile": "rdt"}, capture=True)
    finally:
        link.reset()
