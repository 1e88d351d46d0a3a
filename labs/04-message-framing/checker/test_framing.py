"""Lab 4 checker: a length-prefixed protocol, fed bytes in awkward pieces.

Every exchange is made by socklab's framing probe from the client container, through
the router, with TCP_NODELAY so that each of its writes leaves as a segment of its own.
Each check cites the README rules it enforces. The helpers (``wire``, ``framed_server``)
are in conftest.py, the judges and the seeded inputs in framing_judge.py.
"""

import random

import framing_judge as judge
import pytest

from socklab.checking import expect
from socklab.i18n import _
from socklab.probes.message_framing import answer

PORT = 5000
MAX_SIZE = judge.MAX_SIZE  # the protocol's largest payload (README: "Protocol")
PAUSE_IN_HEADER = 3.0  # seconds: R5's longest pause a server must wait out


@pytest.mark.points(1)
@pytest.mark.rules("R1")
def test_server_listens(programs, server, ctx):
    """The server listens on TCP port PORT, on every address: 5000, then a seeded other one"""
    expect.listening_on_the_port_given(programs, server, PORT, ctx.seed)


@pytest.mark.points(1)
@pytest.mark.rules("R2", "R3")
def test_one_message(wire, ctx):
    """A message gets one reply: an M frame holding the payload reversed, byte by byte"""
    words = judge.text(random.Random(ctx.seed), 40)
    wire.exchange([f"text:{words}"],
                  _("one 40-byte message of UTF-8 text ({words})").format(words=repr(words)))


@pytest.mark.points(1)
@pytest.mark.rules("R3")
def test_empty_message(wire):
    """An empty message (length 0) gets an empty reply"""
    wire.exchange(["empty", "text:after the empty one", "empty"],  # not shown
                  _("an empty message, a short one, another empty one"))


@pytest.mark.points(2)
@pytest.mark.rules("R4")
def test_one_byte_per_send(wire, ctx):
    """Two messages sent one byte per send(), headers included: each gets its reply"""
    wire.exchange(["text:one byte at a time", f"random:40:{ctx.seed}"],  # not shown
                  _("two messages (20 and 40 bytes) sent in 1-byte writes, 3 ms apart"),
                  split="fixed:1", gap_ms=3)


@pytest.mark.points(1)
@pytest.mark.rules("R4")
def test_header_split_across_sends(wire, ctx):
    """Headers cut after each of their bytes (1st to 5th), in separate sends"""
    sizes = [7, 300, 1, 2000, 0, 64, 5, 1000, 4096, 2]
    wire.exchange([f"random:{size}:{ctx.seed + i}" for i, size in enumerate(sizes)],
                  _("10 messages, each header cut in two (after byte 1, 2, 3, 4 or 5), each payload in "
                    "two at a random place (seed {seed}), sent 10 ms apart").format(seed=ctx.seed),
                  split=f"headers:{ctx.seed}", gap_ms=10)


@pytest.mark.points(2)
@pytest.mark.rules("R4")
def test_coalesced_messages(wire, ctx):
    """Fifty messages in one send(): fifty replies, in order"""
    rng = random.Random(ctx.seed)
    sizes = [rng.randint(0, 1000) for _ in range(42)] + rng.sample(judge.BOUNDARIES[:12], 8)
    rng.shuffle(sizes)
    messages = [f"random:{size}:{ctx.seed + i}" for i, size in enumerate(sizes)]
    wire.exchange(messages, _("50 messages of 0 to {largest} bytes (seed {seed}), all in one send()").format(
        largest=max(sizes), seed=ctx.seed))


@pytest.mark.points(1)
@pytest.mark.rules("R4")
def test_random_segmentation(wire, ctx):
    """A hundred messages cut into writes at random places: every reply right"""
    rng = random.Random(ctx.seed)
    messages = [f"random:{rng.randint(0, 300)}:{ctx.seed + i}" for i in range(100)]
    wire.exchange(messages, _("100 messages of 0 to 300 bytes, cut into writes of 1 to 64 bytes (seed "
                              "{seed})").format(seed=ctx.seed), split=f"random:{ctx.seed}:64", gap_ms=0.5)


@pytest.mark.points(1)
@pytest.mark.rules("R5")
def test_pauses_between_pieces(wire, ctx):
    """A client that pauses 3 s in the middle of a header, and 0.5 s in a payload, is answered"""
    rng = random.Random(ctx.seed)
    first, second = judge.text(rng, 30).encode(), rng.randbytes(rng.randint(100, 3000))
    in_header = rng.randint(1, 4)
    at_header = judge.HEADER.size + len(first) + in_header
    at_payload = judge.HEADER.size * 2 + len(first) + rng.randint(1, len(second) - 1)
    wire.exchange([f"text:{first.decode()}", f"random:{len(second)}:{ctx.seed}"],
                  _("a message, then {count} bytes of the next header, a pause of 3 s, the rest of the "
                    "header and part of the payload, a pause of 0.5 s, the rest").format(count=in_header),
                  split=f"at:{at_header}@{PAUSE_IN_HEADER * 1000:g},{at_payload}@500")


@pytest.mark.points(2)
@pytest.mark.rules("R3", "R4")
def test_one_mebibyte_message(wire, ctx):
    """A 1 MiB message (the largest allowed), in 1400-byte writes, gets its 1 MiB reply"""
    wire.exchange([f"random:{MAX_SIZE}:{ctx.seed}"], _("one 1 MiB message in 1400-byte writes"),
                  split="fixed:1400")


@pytest.mark.points(2)
@pytest.mark.rules("R6")
def test_large_reply_to_a_slow_reader(wire, ctx):
    """A 1 MiB reply reaches a slow reader whole, though the server is paused and resumed"""
    wire.slow_reader(f"random:{MAX_SIZE}:{ctx.seed + 1}", [64 * 1024, 512 * 1024],
                     _("a 1 MiB message from a client that stops reading its reply twice, while the "
                       "server is paused and resumed (as Ctrl-Z and fg do)"))


@pytest.mark.points(2)
@pytest.mark.rules("R7")
def test_rejects_huge_length(wire, ctx):
    """A header announcing more than 1 MiB: the error reply 'too long', nothing allocated"""
    before = wire.memory()
    hello = judge.text(random.Random(ctx.seed), 12).encode()
    wire.error_reply(judge.frame(b"M", hello) + wire.header(b"M", MAX_SIZE + 1), "too long",
                     _("a 12-byte message, then a header announcing 1 MiB + 1 byte (no payload "
                       "follows)"), before=judge.frame(b"M", hello[::-1]))
    for length, what in ((0xFFFFFFFF, _("a header announcing 4 GiB - 1 (ffffffff)")),
                         (0x80000000, _("a header announcing 2 GiB (80000000: negative if read "
                                        "as a signed number)")),
                         (256 * MAX_SIZE, _("a header announcing 256 MiB"))):
        wire.error_reply(wire.header(b"M", length), "too long", what)
    growth, which = wire.memory_growth(before)
    if growth > 64 * 1024:
        expect.fail(_("the server to decide from the header alone, without allocating the "
                      "announced length"),
                    _("the peak memory (VmHWM) of {which} grew by {mib} MiB during these four "
                      "exchanges").format(which=which, mib=growth // 1024))
    wire.still_serving(after=_("four oversized headers"))


@pytest.mark.points(1)
@pytest.mark.rules("R8")
def test_rejects_unknown_kind(wire, ctx):
    """A header of another kind than M: the error reply 'bad kind', whatever its length"""
    hello = judge.text(random.Random(ctx.seed), 9).encode()
    wire.error_reply(judge.frame(b"M", hello) + wire.header(b"X", 0), "bad kind",
                     _("a 9-byte message, then a header of kind 'X', length 0"),
                     before=judge.frame(b"M", hello[::-1]))
    wire.error_reply(wire.header(b"E", 1000), "bad kind",
                     _("a header of kind 'E' (the server's own), length 1000, its payload not sent"))
    wire.error_reply(wire.header(b"m", MAX_SIZE + 1), "bad kind",
                     _("a header of kind 'm' (lower case), length 1 MiB + 1"))
    wire.still_serving(after=_("three headers of other kinds"))


@pytest.mark.points(2)
@pytest.mark.rules("R9")
def test_client_closes_mid_message(wire, ctx):
    """Clients that leave in the middle of a message get no reply; the server goes on"""
    rng = random.Random(ctx.seed)
    message = wire.header(b"M", 1000) + rng.randbytes(1000)
    whole = judge.frame(b"M", b"whole")
    wire.half_message(whole + message[:15], _("a whole 5-byte message, then a header announcing 1000 "
                                              "bytes and 10 of them, then the client closes its sending "
                                              "side"),
                      before=judge.frame(b"M", b"elohw"))
    cut = rng.randint(1, 4)
    wire.half_message(message[:cut], _("{count} bytes of a header, then the client closes its sending "
                                       "side").format(count=cut))
    wire.raw(message[:200], then="reset")
    seen = wire.raw(b"", then="reset", read=4096, frames=(f"random:{MAX_SIZE}:{ctx.seed}",))
    if seen["error"]:
        expect.fail(_("a 1 MiB message, then 4096 bytes of the reply read and the connection reset: the "
                      "server answering"), seen["error"])
    # the same after closing the sending side first: the server's send() then fails with
    # EPIPE (BrokenPipeError), not ECONNRESET, and must end only that conversation too
    seen = wire.raw(b"", then="shutdown-reset", read=4096,
                    frames=(f"random:{MAX_SIZE}:{ctx.seed + 1}",))
    if seen["error"]:
        expect.fail(_("a 1 MiB message, the client's sending side closed, then 4096 bytes of the reply "
                      "read and the connection reset: the server answering"), seen["error"])
    wire.still_serving(after=_("five clients that left in the middle of a message or of a reply (two "
                               "closing their sending side, two resetting, one both)"))


def client_messages(rng: random.Random) -> list[str]:
    """What the client is given to send: short, empty, multi-byte UTF-8, around a buffer size."""
    return [f"ping {rng.randrange(10**6):06d}", judge.text(rng, rng.randint(200, 600)), "",
            judge.text(rng, rng.choice(judge.BOUNDARIES[:12])), "framing"]


@pytest.mark.points(2)
@pytest.mark.rules("R2", "R10", "R11")
def test_client_prints_replies(ctx, programs, framed_server):
    """The client frames each message and prints each reply, even one that comes in pieces"""
    messages = client_messages(random.Random(ctx.seed))
    # Mostly not the real server's answer: the test server's, so the client must print what
    # it got. The second is the real server's, bytes reversed: not valid UTF-8.
    replies = [answer(m.encode()).decode() for m in messages]
    replies[1] = messages[1].encode()[::-1].decode(errors="replace")
    fake = framed_server(6000, pause_at=3, bytes_at=2)
    run = programs.run("client", ["server", "6000", *messages], timeout=20)
    seen = fake.result()
    output = client_output(run)
    judge.client_sent(seen, messages, output)
    judge.printed(run.stdout, replies, output,
                  _(" (the client timed out)") if run.timed_out else "")
    judge.exited(run.returncode, 0, run.timed_out, output)


@pytest.mark.points(2)
@pytest.mark.rules("R12")
def test_client_reports_error_reply(ctx, programs, framed_server):
    """An E reply: the client prints 'error: REASON' to standard error and exits with 1"""
    rng = random.Random(ctx.seed)
    messages = [f"hello {rng.randrange(1000)}", judge.text(rng, 50), "never sent"]
    reason = rng.choice(["too long", "bad kind"])
    fake = framed_server(6000, error_at=2, reason=reason)
    run = programs.run("client", ["server", "6000", *messages], timeout=20)
    seen = fake.result()
    output = client_output(run)
    judge.client_sent(seen, messages[:2], output)
    judge.reported_error(run.stderr, reason, output)
    judge.printed(run.stdout, [answer(messages[0].encode()).decode()], output,
                  _(" (after the error reply, nothing more belongs there)"))
    judge.exited(run.returncode, 1, run.timed_out, output)


def client_output(run) -> str:
    """The client's standard output and error as evidence, each line marked as the client's
    (quoted by expect.output: nothing it prints stands in the report as socklab's words)."""
    return "\n".join([expect.output(_("the client's standard output"), run.stdout),
                      expect.output(_("the client's standard error"), run.stderr)])
