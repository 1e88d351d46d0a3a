"""Lab 3 checker: the handshake and the teardown, as the router captured them.

The first checks run the student's client against the student's server once, capture the
connection on the router (tcpdump) and judge its segments: the three-way handshake, who
closed first, the four-way close, no reset. Every capture is drawn as a ladder diagram in
the failure message and in the run's artifacts (ladder.txt, ladder.svg). The other checks
judge each program alone against the checker's own client or server (peers.py), which
sends a request, or a reply, in slow pieces. The fixtures are in conftest.py.
"""

import random

import conversation
import pytest
from capture import BOUND, client_output
from peers import PORT, answer, probe

from socklab.checking import expect
from socklab.errors import PlatformError

DROP_FIRST_SYNACK = {"name": "drop-first-synack", "direction": "s2c", "packet": "synack",
                     "nth": 1, "action": "drop"}


def at(conn, seg):
    """When the router saw ``seg``, from the connection's first segment."""
    return f"{(seg.t_in - conn.segments[0].t_in) * 1000:.1f} ms"


@pytest.mark.points(2)
def test_three_way_handshake(exchange):
    """The connection opens with SYN, SYN-ACK, ACK"""
    opened = conversation.handshake(exchange.connection())
    if isinstance(opened, str):
        expect.fail("the three-way handshake: SYN from the client, SYN-ACK from the server, "
                    "ACK from the client", opened, exchange.evidence())


@pytest.mark.points(2)
def test_client_closes_first(exchange, against_checker):
    """The client half-closes first: its FIN comes before the server's reply"""
    conn = exchange.connection()
    client_fin = conversation.fin(conn, "c2s")
    reply = conversation.first_data(conn, "s2c")
    server_fin = conversation.fin(conn, "s2c")
    if client_fin is None:
        expect.fail("a FIN from the client right after its request (shutdown(SHUT_WR))",
                    "no FIN from the client", exchange.evidence())
    early = [f"the server's reply at {at(conn, reply)}"] if reply is not None and \
        reply.t_in < client_fin.t_in else []
    if server_fin is not None and server_fin.t_in < client_fin.t_in:
        early.append(f"the server's FIN at {at(conn, server_fin)}")
    if not early:
        return
    # A server that answers before the request's end races the client's FIN: which came
    # first then says nothing about the client. The checker's server waits for the FIN.
    seen, _ = against_checker("are you closing?", "ok\n")
    if not seen["eof"]:
        expect.fail("the client's FIN before the server's reply: the client says its request "
                    "is complete (shutdown(SHUT_WR)), the server answers after that",
                    f"{' and '.join(early)}, the client's FIN only at {at(conn, client_fin)}; "
                    "against the checker's server, which answers only after the client's FIN, "
                    "no FIN came within 5 s", exchange.evidence())


@pytest.mark.points(2)
def test_four_way_close(exchange):
    """The four-way close: a FIN from each side, each acknowledged by the other"""
    conn = exchange.connection()
    for way, who, other in (("c2s", "client", "server"), ("s2c", "server", "client")):
        fin = conversation.fin(conn, way)
        if fin is None:
            expect.fail(f"a FIN from the {who}: it closes its side once it has sent everything",
                        f"no FIN from the {who} within {BOUND:g} s: the connection stayed open"
                        + (" (does the server close() each connection after its reply?)"
                           if who == "server" else ""), exchange.evidence())
        if conversation.acknowledgement(conn, fin) is None:
            expect.fail(f"the {other} to acknowledge the {who}'s FIN",
                        f"the {who}'s FIN at {at(conn, fin)} was never acknowledged",
                        exchange.evidence())


@pytest.mark.points(2)
def test_no_reset(exchange):
    """The connection ends without a reset (no RST from either side)"""
    conn = exchange.connection()
    resets = conversation.resets(conn)
    if resets:
        first = resets[0]
        who, why = (("client", "a socket closed with data unread, or data arriving after it "
                     "closed, is reset: read the reply to its end (recv() returns b\"\") "
                     "before closing") if first.way == "c2s" else
                    ("server", "a socket closed with data unread, or data arriving after it "
                     "closed, is reset: read the request to its end before replying and "
                     "closing"))
        expect.fail("a graceful close: FINs, no RST",
                    f"{len(resets)} RST segment(s), the first from the {who} at "
                    f"{at(conn, first)}; {why}", exchange.evidence())


@pytest.mark.points(2)
def test_lost_synack(converse, impair):
    """The connection still opens when the router drops the first SYN-ACK (the SYN is sent again)"""
    version = impair.set(update={"script": [DROP_FIRST_SYNACK]})
    seen = converse("lost-synack", "the exchange, with the first SYN-ACK dropped by the router",
                    "hello again, after a lost SYN-ACK", BOUND + 4)
    if not any(e.get("flags") == "S." and e["decision"].startswith("drop")
               for e in impair.events(version)):
        raise PlatformError("the router was told to drop the first SYN-ACK but dropped none")
    conn = seen.connection()
    opened = conversation.handshake(conn)
    if isinstance(opened, str):
        expect.fail("the connection established after the lost SYN-ACK (the client's kernel "
                    "sends the SYN again after about 1 s: connect() must wait for it)",
                    opened, seen.evidence())
    for way, who in (("c2s", "client"), ("s2c", "server")):
        fin = conversation.fin(conn, way)
        if fin is None or conversation.acknowledgement(conn, fin) is None:
            expect.fail("the exchange to complete after the handshake: both FINs acknowledged",
                        f"the {who}'s FIN " + ("missing" if fin is None else "not acknowledged"),
                        seen.evidence())


@pytest.mark.points(3)
def test_server_reads_to_eof(ctx, programs):
    """The server reads the request to its end (EOF) before it replies, then closes"""
    programs.ensure("server")
    seen = probe(ctx.container("client"), "request", "--host", "server", "--port", str(PORT),
                 "--payload", f"random:30000:{ctx.seed}", "--pieces", "4", "--gap-ms", "300",
                 "--timeout", "5")
    judge_reply(seen, random.Random(ctx.seed).randbytes(30000),
                "a 30000-byte request sent in 4 pieces, 0.3 s apart")


@pytest.mark.points(1)
def test_server_empty_request(ctx, programs):
    """An empty request (the client half-closes at once) gets its answer too"""
    programs.ensure("server")
    seen = probe(ctx.container("client"), "request", "--host", "server", "--port", str(PORT),
                 "--payload", "empty", "--timeout", "5")
    judge_reply(seen, b"", "an empty request (connect, then shutdown(SHUT_WR) at once)")


def judge_reply(seen, request, what):
    """The probe's request got the protocol's answer, after its FIN, then the server's FIN."""
    __tracebackhide__ = True
    expected = answer(request)
    if seen["error"] and seen["error"].startswith("connect"):
        expect.fail(f"to connect to the server's port {PORT}", seen["error"])
    if seen["early"] or seen["early_eof"]:
        early = f"a reply {seen['early'][:80]!r}" if seen["early"] else "the server's FIN"
        expect.fail(f"{what}: nothing back before the request is complete (the client's FIN)",
                    f"{early} after only {seen['early_at']} bytes of the request"
                    + (f"; then {seen['error']}" if seen["error"] else ""))
    observed = repr(seen["reply"][:100])
    if seen["error"]:
        observed += f" ({seen['error']})"
    elif not seen["eof"]:
        observed += " and no FIN (EOF) within 5 s: the server did not close after replying"
    if seen["reply"] != expected or not seen["eof"]:
        expect.fail(f"{what}: the reply {expected!r}, then the server's FIN (EOF)", observed)


@pytest.mark.points(2)
def test_client_half_closes(ctx, against_checker):
    """The client sends its request, then shuts down its sending side (the server sees EOF)"""
    message = f"request-{random.Random(ctx.seed).randrange(10**6):06d}"
    seen, run = against_checker(message, "ok\n")
    if seen["request"] != message:
        expect.fail(f"the request {message!r}", repr(seen["request"][:100]), client_output(run))
    if not seen["eof"]:
        expect.fail("a FIN (EOF at the server) right after the request: shutdown(SHUT_WR)",
                    "the request, then nothing for 5 s: the client kept its side open (the "
                    "server answers only a complete request)", client_output(run))


@pytest.mark.points(2)
def test_client_reads_until_eof(ctx, against_checker):
    """The client reads the reply to its end (the server's FIN) and prints all of it"""
    rng = random.Random(ctx.seed + 1)
    reply = f"a reply in three slow pieces: {rng.randrange(10**9):09d} {rng.randrange(10**9):09d}\n"
    seen, run = against_checker("tell me", reply, pieces=3, gap_ms=300)
    if not seen["eof"]:
        expect.fail("a request ended by a FIN (shutdown(SHUT_WR)), so that the server replies",
                    "no FIN from the client within 5 s", client_output(run))
    if reply not in run.stdout:
        expect.fail(f"the client to print the whole reply {reply!r} (it came in 3 pieces, "
                    "0.3 s apart, then the server's FIN)",
                    f"stdout {run.stdout[-300:]!r}", client_output(run))
