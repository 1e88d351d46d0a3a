"""Lab 1 checker: the echo server and client, judged by what crosses the network.

Every exchange is made by socklab's probe from the client container, through the
router, to the student's server; the client is run against the probe's own server.
"""

import random

import pytest

from socklab.checking import expect, observe

PORT = 5000


@pytest.fixture
def echo(ctx, programs):
    """Talk to the student's server (started, or restarted if it died) from the client side."""
    programs.ensure("server")

    def exchange(payload, what, **options):
        seen = observe.tcp_echo(ctx.container("client"), "server", PORT, payload, **options)
        expect.echoed(seen, what)
        return seen

    return exchange


@pytest.mark.points(1)
def test_server_listens(programs, server):
    """The server listens on TCP port 5000"""
    programs.ensure("server")
    expect.listening(server, PORT)


@pytest.mark.points(1)
def test_echo_short_message(echo):
    """A short text message comes back unchanged"""
    echo("text:hello, socklab", "a 14-byte message")


@pytest.mark.points(1)
def test_echo_one_byte(echo):
    """A single byte comes back"""
    echo("text:x", "one byte")


@pytest.mark.points(1)
def test_echo_empty(echo):
    """A client that sends nothing and closes: the server closes too"""
    echo("empty", "a client that sends nothing")


@pytest.mark.points(1)
def test_echo_all_byte_values(echo):
    """Binary data: all 256 byte values come back unchanged"""
    echo("all-bytes", "the 256 byte values 0x00..0xff")


@pytest.mark.points(2)
def test_echo_one_mebibyte(echo, ctx):
    """1 MiB of random bytes comes back unchanged"""
    echo(f"random:1048576:{ctx.seed}", "1 MiB of random bytes", timeout=20)


@pytest.mark.points(1)
def test_echo_byte_by_byte(echo):
    """A message sent one byte per send() comes back whole"""
    echo("text:one byte at a time", "a message sent in 1-byte pieces", chunk=1)


@pytest.mark.points(2)
def test_several_clients_in_turn(echo, ctx):
    """Five clients, one after another, each gets its own bytes back"""
    for i in range(5):
        echo(f"random:{1000 + i}:{ctx.seed + i}", f"client {i + 1} of 5")


@pytest.mark.points(1)
def test_survives_abrupt_disconnect(echo, ctx, programs):
    """A client that resets its connection does not stop the server"""
    aborted = observe.tcp_abort(ctx.container("client"), "server", PORT)
    assert aborted["error"] is None, f"expected to connect\nobserved {aborted['error']}"
    echo("text:still there?", "the next client, after one reset its connection")
    if not programs.alive("server"):
        expect.fail("the server still running", "the server process exited")


@pytest.mark.points(2)
def test_client_prints_reply(ctx, programs):
    """The client sends its message and prints the reply it received"""
    rng = random.Random(ctx.seed)
    message = f"ping-{rng.randrange(10**6):06d}"
    reply = message[::-1].upper()  # not an echo: the client must print what it received
    programs.stop_host("server")  # the test server stands in for the student's: nothing of theirs stays
    fake = observe.Server(ctx.container("server"), 6000, reply, expect=message)
    run = programs.run("client", ["server", "6000", message], timeout=15)
    seen = fake.result()
    if seen["received"] != message:
        expect.fail(f"the client to send {message!r}", f"{seen['received']!r}",
                    f"the client's output:\n{run.stdout}{run.stderr}")
    if reply not in run.stdout:
        expect.fail(f"the client to print the reply {reply!r} (a test server answered, not an echo)",
                    f"stdout {run.stdout.strip()!r}" + (" (timed out)" if run.timed_out else ""),
                    run.stderr.strip())
