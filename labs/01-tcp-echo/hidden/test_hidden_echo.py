"""Lab 1 hidden checks: run in grading only; never shipped to students."""

import pytest

from socklab.checking import expect, observe
from socklab.i18n import _

PORT = 5000


@pytest.mark.points(2)
@pytest.mark.rules("R2")
def test_echo_random_pieces(ctx, programs):
    """256 KiB sent in pieces of random sizes comes back unchanged"""
    programs.ensure("server")
    seen = observe.tcp_echo(ctx.container("client"), "server", PORT,
                            f"random:262144:{ctx.seed + 100}", chunk=4096, chunk_seed=ctx.seed)
    expect.echoed(seen, _("256 KiB in random-sized pieces"))
