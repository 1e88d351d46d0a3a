"""Lab 8's checker fixtures; the transfers they run are in transfer.py."""

from __future__ import annotations

import random
import zlib
from pathlib import Path

import links
import pytest
import rdt_wire
from transfer import Transfers

from socklab import impairing
from socklab.i18n import _


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
            _("a {size}-byte file, stop-and-wait, through the rdt link").format(size=size), bound=90,
            link={"profile": "rdt"}, capture=True)
    finally:
        link.reset()


@pytest.fixture(scope="module")
def damaged(ctx, programs):
    """The window transfer through the damaging link, captured: two checks judge it."""
    link = impairing.Link(ctx.container("impair"), Path(ctx.artifacts))
    try:
        size = 100 * 1024
        return Transfers(ctx, programs, link).run(
            "damage", size, "window",
            _("a 100 KiB file, window mode, about 1 data packet in 8 and 1 ACK in 8 (seeded, at "
              "random) with one bit flipped (the UDP checksum fixed up to match), after 6 damaged "
              "packets sent to the receiver from another socket"),
            bound=60, link={"config": links.damaging(ctx.seed, size // 1024), "name": "damaging"},
            capture=True, crafted=damaged_packets(ctx.seed))
    finally:
        link.reset()


def craft(kind: bytes, seq: int, payload: bytes, *, length: int | None = None,
          crc: int | None = None) -> bytes:
    """A packet in the lab's format, with the length field or the CRC-32 set as given."""
    rest = rdt_wire.HEADER.pack(0, kind, seq, len(payload) if length is None else length)[4:]
    rest += payload
    return (zlib.crc32(rest) if crc is None else crc).to_bytes(4, "big") + rest


def damaged_packets(seed: object) -> list[bytes]:
    """Packets the receiver must drop without a word (R4), each claiming the file's start."""
    rng = random.Random(f"{seed}:crafted")
    junk = rng.randbytes(1024)
    sound = craft(b"D", 0, junk)
    return [
        b"",  # an empty datagram
        rng.randbytes(rng.randint(1, 10)),  # shorter than the header
        craft(b"X", 0, junk),  # intact, but of no known kind
        craft(b"D", 0, junk[:1000], length=1024),  # the length field says more than there is
        craft(b"D", 1, junk, length=rng.randint(1, 1023)),  # ... or less
        craft(b"D", 0, junk, crc=zlib.crc32(sound[4:]) ^ (1 << rng.randrange(32))),  # bad CRC
    ]
