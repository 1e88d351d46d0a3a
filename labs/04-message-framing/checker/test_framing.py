"""Lab 4 checker: a length-prefixed protocol, fed bytes in awkward pieces.

Every exchange is made by socklab's framing probe from the client container, through
the router, with TCP_NODELAY so that each of its writes leaves as a segment of its own.
The helpers (``wire``, ``framed_server``) are in conftest.py.
"""

import random
import string

import pytest

from socklab.checking import expect

PORT = 5000
MAX_SIZE = 1024 * 1024  # the protocol's largest payload (README: "Protocol")


@pytest.mark.points(1)
def test_server_listens(programs, server):
    """The server listens on TCP port 5000"""
    programs.ensure("server")
    expect.listening(server, PORT)


@pytest.mark.points(1)
def test_one_message(wire):
    """A message gets one reply: an M frame holding the payload reversed"""
    wire.exchange(["text:hello, framing"], "one 14-byte message")


@pytest.mark.points(1)
def test_empty_message(wire):
    """An empty message (length 0) gets an empty reply"""
    wire.exchange(["empty", "text:after the empty one"], "an empty message, then a short one")


@pytest.mark.points(2)
def test_one_byte_per_send(wire, ctx):
    """Two messages sent one byte per send(), headers included: each gets its reply"""
    wire.exchange(["text:one byte at a time", f"random:40:{ctx.seed}"],
                  "two messages (24 and 40 bytes) sent in 1-byte writes, 3 ms apart",
                  split="fixed:1", gap_ms=3)


@pytest.mark.points(1)
def test_header_split_across_sends(wire, ctx):
    """Headers cut after their 1st, 2nd, 3rd and 4th byte, in separate sends"""
    sizes = [7, 300, 1, 2000, 0, 64, 5, 1000]
    wire.exchange([f"random:{size}:{ctx.seed + i}" for i, size in enumerate(sizes)],
                  "8 messages, each header cut in two (after byte 1, 2, 3 or 4), each payload "
                  "in two, sent 10 ms apart", split="headers", gap_ms=10)


@pytest.mark.points(2)
def test_coalesced_messages(wire, ctx):
    """Fifty messages in one send(): fifty replies, in order"""
    rng = random.Random(ctx.seed)
    messages = [f"random:{rng.randint(0, 1000)}:{ctx.seed + i}" for i in range(50)]
    wire.exchange(messages, "50 messages of 0 to 1000 bytes, all in one send()")


@pytest.mark.points(1)
def test_random_segmentation(wire, ctx):
    """A hundred messages cut into writes at random places: every reply right"""
    rng = random.Random(ctx.seed)
    messages = [f"random:{rng.randint(0, 300)}:{ctx.seed + i}" for i in range(100)]
    wire.exchange(messages, f"100 messages of 0 to 300 bytes, cut into writes of 1 to 64 bytes "
                  f"(seed {ctx.seed})", split=f"random:{ctx.seed}:64", gap_ms=0.5)


@pytest.mark.points(2)
def test_one_mebibyte_message(wire, ctx):
    """A 1 MiB message (the largest allowed), in 1400-byte writes, gets its 1 MiB reply"""
    wire.exchange([f"random:{MAX_SIZE}:{ctx.seed}"], "one 1 MiB message in 1400-byte writes",
                  split="fixed:1400")


@pytest.mark.points(2)
def test_large_reply_to_a_slow_reader(wire, ctx):
    """A 1 MiB reply reaches a slow reader whole, though the server is paused and resumed"""
    wire.slow_reader(f"random:{MAX_SIZE}:{ctx.seed + 1}", [64 * 1024, 512 * 1024],
                     "a 1 MiB message from a client that stops reading its reply twice, while "
                     "the server is paused and resumed (as Ctrl-Z and fg do)")


@pytest.mark.points(2)
def test_rejects_huge_length(wire):
    """A header announcing more than 1 MiB: the error reply 'too long', nothing allocated"""
    before = wire.memory()
    for length, what in ((0xFFFFFFFF, "a header announcing 4 GiB"),
                         (MAX_SIZE + 1, "a header announcing 1 MiB + 1 byte"),
                         (256 * MAX_SIZE, "a header announcing 256 MiB")):
        wire.error_reply(wire.header(b"M", length), "too long", what)
    growth, which = wire.memory_growth(before)
    if growth > 64 * 1024:
        expect.fail("the server to decide from the header alone, without allocating the "
                    "announced length", f"the peak memory (VmHWM) of {which} grew by "
                    f"{growth // 1024} MiB during these three exchanges")
    wire.still_serving(after="three oversized headers")


@pytest.mark.points(1)
def test_rejects_unknown_kind(wire):
    """A header of an unknown kind: the error reply 'bad kind'"""
    wire.error_reply(wire.header(b"X", 0), "bad kind", "a header of kind 'X'")
    wire.still_serving(after="a header of kind 'X'")


@pytest.mark.points(2)
def test_client_closes_mid_message(wire, ctx):
    """Clients that leave in the middle of a message get no reply; the server goes on"""
    message = wire.header(b"M", 1000) + random.Random(ctx.seed).randbytes(1000)
    wire.half_message(message[:15], "a header announcing 1000 bytes, then 10 of them, then "
                      "the client closes its sending side")
    wire.half_message(message[:3], "3 bytes of a header, then the client closes its sending side")
    wire.raw(message[:200], then="reset")
    wire.still_serving(after="three clients that left in the middle of a message")


@pytest.mark.points(2)
def test_client_prints_replies(ctx, programs, framed_server):
    """The client frames each message and prints each reply, even one that comes in pieces"""
    rng = random.Random(ctx.seed)
    messages = [f"ping {rng.randrange(10**6):06d}",
                "".join(rng.choice(string.ascii_lowercase + " ") for _ in range(500)), "framing"]
    # Not the real server's answer: only the test server's, so the client must print what it got.
    replies = [m[::-1].upper() for m in messages]
    fake = framed_server(6000)
    run = programs.run("client", ["server", "6000", *messages], timeout=20)
    seen = fake.result()
    output = f"the client's output:\n{run.stdout[-1500:]}{run.stderr[-1500:]}"
    sent = seen["messages"]
    if sent != messages[:len(sent)]:
        expect.fail(f"the client to send {len(messages)} M frames: {short(messages)}",
                    f"the test server received {short(sent)}"
                    + (f"; {seen['error']}" if seen["error"] else ""), output)
    lines = iter(run.stdout.splitlines())
    missing = [r for r in replies if not any(line.rstrip() == r for line in lines)]
    if missing:
        expect.fail(f"the client to print the {len(replies)} replies, one per line, in order "
                    "(a test server answered each in pieces of a few bytes)",
                    f"reply {replies.index(missing[0]) + 1} ({short([missing[0]])}) not printed"
                    + (" (the client timed out)" if run.timed_out else "")
                    + f"; the test server received {len(sent)} of {len(messages)} messages",
                    output)

def short(texts: list[str]) -> str:
    return ", ".join(repr(t) if len(t) <= 40 else f"{t[:30]!r}... ({len(t)} chars)" for t in texts) \
        or "nothing"
