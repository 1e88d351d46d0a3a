"""Lab 1 checker: the echo server and client, judged by what crosses the network.

Every exchange is made by socklab's probe from the client container, through the
router, to the student's server; the client is run against the probe's own server.
Inputs are seeded by the run's seed (echoing.py draws them): a failure replays.
"""

import json
import random

import pytest
from echoing import (
    CLOSE_WAIT,
    ECHO_WAIT,
    PORT,
    client_exchange,
    close_problem,
    early_close_exchange,
    echo_problem,
    held_pieces,
    lone_pieces,
    plan,
    printed_problem,
    wildcard,
)

from socklab.checking import expect, observe
from socklab.i18n import _

FAKE_PORT = 6000  # the test server's, for the student's client
HOLD = 4.0  # seconds the test server keeps the connection open for the client to close it
CLIENT_CLOSE = 2.0  # seconds the client may take to close once it has its bytes (R9: 1 s)
SLOW_READER = 0.5  # seconds the client of the several-MiB echo reads nothing at first


@pytest.fixture
def echo(ctx, programs):
    """Talk to the student's server (started, or restarted if it died) from the client side."""
    programs.ensure("server")

    def exchange(payload, what, **options):
        seen = observe.tcp_echo(ctx.container("client"), "server", PORT, payload, **options)
        expect.echoed(seen, what, server_state(programs))
        return seen

    return exchange


@pytest.fixture
def converse(ctx, programs):
    """Hold a lock-step conversation with the student's server (see echoing.py)."""
    programs.ensure("server")

    def conversation(pieces, final_wait=0.0):
        return observe.probe(ctx.container("client"), "tcp-converse", "--host", "server",
                             "--port", str(PORT), "--plan", json.dumps(plan(pieces)),
                             "--wait", str(ECHO_WAIT), "--final-wait", str(final_wait),
                             timeout=len(pieces) * ECHO_WAIT + sum(p.pause for p in pieces)
                             + final_wait + 20)

    return conversation


def server_state(programs) -> str:
    return "" if programs.alive("server") else _("the server process has exited")


@pytest.mark.points(1)
@pytest.mark.rules("R1")
def test_server_listens(programs, server, ctx):
    """The server listens on TCP port PORT on every address: 5000, then a seeded other one"""
    programs.ensure("server")
    expect.listening(server, PORT)
    out = server.run(f"ss -Hltn 'sport = :{PORT}'").stdout.split("\n")  # not shown
    local = [line.split()[3] for line in out if len(line.split()) >= 4]
    if not any(wildcard(address) for address in local):
        expect.fail(_("a socket listening on port {port} on every address (0.0.0.0:{port} or "
                      "[::]:{port}: bound to \"\")").format(port=PORT),
                    _("listening on {addresses} only (seen with ss in the server)").format(
                        addresses=", ".join(local)))
    # PORT is the server's argument (R1): a server that listens on 5000 whatever it is given
    # must not pass. The test server's port (6000) is never drawn.
    other = random.Random(ctx.seed).randrange(5001, 6000)
    try:
        programs.start_with("server", {str(PORT): str(other)})
        seen = observe.tcp_echo(ctx.container("client"), "server", other, "text:port")
        expect.echoed(seen, _("a message to port {port}").format(port=other), server_state(programs))
    finally:
        programs.stop("server")  # the next checks start it again on port 5000


@pytest.mark.points(1)
@pytest.mark.rules("R2")
def test_echo_short_message(echo, ctx):
    """A short text message, several lines of multi-byte UTF-8, comes back unchanged"""
    rng = random.Random(ctx.seed)
    lines = [f"héllo, socklab {rng.randrange(10**6)}", "世界 → データ 🙂", "  indented\tline "]
    echo("text:" + "\n".join(rng.sample(lines, 3)) + "\n", _("a short multi-line UTF-8 message"))


@pytest.mark.points(1)
@pytest.mark.rules("R2")
def test_echo_one_byte(echo):
    """A single byte comes back"""
    echo("text:x", _("one byte"))


@pytest.mark.points(1)
@pytest.mark.rules("R4")
def test_echo_empty(echo):
    """A client that sends nothing and closes: the server closes too"""
    echo("empty", _("a client that sends nothing"))


@pytest.mark.points(1)
@pytest.mark.rules("R2")
def test_echo_all_byte_values(echo):
    """Binary data: all 256 byte values come back unchanged"""
    echo("all-bytes", _("the 256 byte values 0x00..0xff"))


@pytest.mark.points(2)
@pytest.mark.rules("R2")
def test_echo_one_mebibyte(echo, ctx):
    """Several MiB of random bytes, to a client that reads nothing for 0.5 s, come back unchanged"""
    # Over 4 MiB, so that a server that stops after some MiB is caught; the client's pause
    # fills every buffer on the way, so that a server's send() meets a full one every run.
    size = (6 << 20) + random.Random(ctx.seed).randrange(-4096, 4096)
    echo(f"random:{size}:{ctx.seed}", _("{size} random bytes (about 6 MiB; the client reads "
                                        "nothing for the first {seconds:g} s)").format(
                                            size=size, seconds=SLOW_READER),
         timeout=20, stall=SLOW_READER)


@pytest.mark.points(1)
@pytest.mark.rules("R2")
def test_echo_byte_by_byte(echo):
    """A message sent one byte per send() comes back whole"""
    echo("text:one byte at a time, é 世", _("a message sent in 1-byte pieces"), chunk=1)  # not shown


@pytest.mark.points(2)
@pytest.mark.rules("R2", "R3")
def test_echo_piece_by_piece(converse, ctx, programs):
    """Piece by piece, each echo awaited: whitespace, 'quit', a NUL, half a character, buffer sizes"""
    pieces = lone_pieces(ctx.seed)
    seen = converse(pieces)
    if problem := echo_problem(pieces, seen):
        expect.fail(_("each piece echoed, unchanged, before the client sends the next (within "
                      "{seconds:g} s); no piece means anything special").format(seconds=ECHO_WAIT),
                    problem, server_state(programs))


@pytest.mark.points(2)
@pytest.mark.rules("R4")
def test_connection_held_then_closed(converse, ctx, programs):
    """The server keeps the connection through a long pause, and closes once the client has"""
    pieces, pause = held_pieces(ctx.seed)
    seen = converse(pieces, final_wait=CLOSE_WAIT)
    problem = echo_problem(pieces, seen) or close_problem(seen)
    if problem:
        expect.fail(_("the connection kept open through {pause:g} s of silence, every byte "
                      "echoed, and the server closing within {seconds:g} s of the client's "
                      "close").format(pause=pause, seconds=CLOSE_WAIT), problem, server_state(programs))


@pytest.mark.points(2)
@pytest.mark.rules("R5")
def test_several_clients_in_turn(echo, ctx):
    """Five clients, one after another, each gets its own bytes back"""
    rng = random.Random(ctx.seed)
    sizes = rng.sample([1023, 1024, 1025, 4095, 4096, 4097, 8191, 8192, 8193, 65537], 5)
    for i, size in enumerate(sizes):
        echo(f"random:{size}:{ctx.seed + i}", _("client {n} of 5 ({size} bytes)").format(n=i + 1, size=size))


@pytest.mark.points(1)
@pytest.mark.rules("R6")
def test_survives_abrupt_disconnect(echo, ctx, programs):
    """Clients that close without a word, or reset (at once, mid-message, mid-echo), do not stop it"""
    client = ctx.container("client")
    silent = observe.tcp_echo(client, "server", PORT, "empty")  # connects, closes, says nothing
    if silent["error"] is not None and silent["error"].startswith("connect"):
        expect.fail(_("to connect"), silent["error"], server_state(programs))
    ways = [(_("right after connecting"), ["--send", "0"]),
            (_("after sending 100 bytes"), ["--send", "100"]),
            (_("while the server was sending it its echo"), ["--send", "100", "--flood"])]
    for what, options in ways:
        aborted = observe.probe(client, "tcp-abort", "--host", "server", "--port", str(PORT),
                                *options)
        if aborted["error"] is not None:
            expect.fail(_("to connect (before resetting {what})").format(what=what), aborted["error"],
                        server_state(programs))
    echo("text:still there?",  # not shown
         _("the next client, after one closed without sending anything and three reset their "
           "connections ({ways})").format(ways="; ".join(what for what, _options in ways)))
    if not programs.alive("server"):
        expect.fail(_("the server still running"), _("the server process exited"))


def run_client(ctx, programs, message, reply, **peer):
    """Run the student's client against the probe's test server; what each side saw."""
    programs.stop_host("server")  # the test server stands in for the student's: nothing of theirs stays
    options = [f"--{k.replace('_', '-')}" + ("" if v is True else f"={v}")
               for k, v in peer.items() if v is not False]
    fake = observe.Background(ctx.container("server"),
                              ["tcp-peer", "--port", str(FAKE_PORT), "--reply", reply,
                               "--expect", str(len(message.encode())), *options,
                               "--timeout", "10"], 30)
    run = programs.run("client", ["server", str(FAKE_PORT), message], timeout=20)
    return run, fake.result()


def client_output(run) -> str:
    head = (_("the client's output (stopped by the checker):") if run.timed_out else
            _("the client's output (exit {status}):").format(status=run.returncode))
    text = (run.stdout + run.stderr).strip().splitlines()[-8:]
    return head + "\n" + "\n".join(f"  | {line[:160]}" for line in text)


def expect_sent(seen, message, run):
    __tracebackhide__ = True
    got = bytes.fromhex(seen["received_hex"])
    if got != message.encode():
        expect.fail(_("the client to send its message, {size} bytes of UTF-8 {message}, and nothing "
                      "else").format(size=len(message.encode()), message=repr(message[:60])),
                    _("{size} bytes {data}").format(size=len(got), data=repr(got[:80]))
                    + (f" ({seen['error']})" if seen["error"] else ""),
                    client_output(run))


def expect_printed(run, reply, how):
    __tracebackhide__ = True
    if problem := printed_problem(run.stdout, reply):
        expect.fail(_("the client to print the reply {reply} ({size} bytes, {how}) on a line of its "
                      "own").format(reply=repr(reply[:60]), size=len(reply.encode()), how=how),
                    problem, client_output(run))
    if run.timed_out or run.returncode != 0:
        expect.fail(_("the client to exit with status 0"),
                    _("still running after {seconds:.0f} s").format(seconds=run.elapsed) if run.timed_out
                    else _("exit {status}").format(status=run.returncode),
                    client_output(run))


@pytest.mark.points(2)
@pytest.mark.rules("R7", "R8", "R9")
def test_client_prints_reply(ctx, programs):
    """The client sends its message, reads a reply that comes in pieces, prints it and closes"""
    message, reply, cuts, pauses = client_exchange(ctx.seed)
    run, seen = run_client(ctx, programs, message, reply, split=",".join(map(str, cuts)),
                           pause=",".join(map(str, pauses)), hold=HOLD)
    expect_sent(seen, message, run)
    expect_printed(run, reply, _("not an echo, sent in {count} pieces {first:g} s and {second:g} s apart, "
                                 "cut inside a character").format(
                                     count=len(cuts) + 1, first=pauses[0], second=pauses[1]))
    closed = seen["client_closed_after"]
    if closed is None or closed > CLIENT_CLOSE:
        expect.fail(_("the client to close the connection once it had its {size} bytes back (the "
                      "test server keeps it open)").format(size=len(message.encode())),
                    _("the client closed {seconds:.1f} s after the last byte").format(seconds=closed)
                    if closed else
                    _("the client had not closed {seconds:g} s after the last byte: does it wait "
                      "for the server to close?").format(seconds=HOLD), client_output(run))


@pytest.mark.points(1)
@pytest.mark.rules("R8", "R9")
def test_client_server_closes_early(ctx, programs):
    """A server that answers fewer bytes and closes: the client prints what came, and exits"""
    message, reply = early_close_exchange(ctx.seed)
    run, seen = run_client(ctx, programs, message, reply, close=True)
    expect_sent(seen, message, run)
    expect_printed(run, reply, _("fewer bytes than the {size} sent, then the server closed").format(
        size=len(message.encode())))


@pytest.mark.points(1)
@pytest.mark.rules("R7", "R8", "R9")
def test_client_empty_message(ctx, programs):
    """An empty MESSAGE: the client sends nothing, prints an empty line and closes at once"""
    run, seen = run_client(ctx, programs, "", "", hold=HOLD)
    if seen["error"] and "connected" in seen["error"]:
        expect.fail(_("the client to connect even with nothing to send (R7)"), seen["error"],
                    client_output(run))
    expect_sent(seen, "", run)
    expect_printed(run, "", _("nothing sent, so nothing to wait for: an empty line"))
    closed = seen.get("client_closed_after")
    if closed is None or closed > CLIENT_CLOSE:
        expect.fail(_("the client to close the connection at once: it sent 0 bytes, so it has "
                      "all 0 of them back (the test server keeps the connection open)"),
                    _("the client closed {seconds:.1f} s after connecting").format(seconds=closed)
                    if closed else
                    _("the client had not closed {seconds:g} s later: does it wait for a first "
                      "recv() before counting its bytes?").format(seconds=HOLD), client_output(run))
