"""Lab 3 checker: the handshake and the teardown, as the router captured them.

The first checks run the student's client against the student's server once, capture the
connection on the router (tcpdump) and judge its segments: the three-way handshake, who
closed first, the four-way close, no reset. Every capture is drawn as a ladder diagram in
the failure message and in the run's artifacts (ladder.txt, ladder.svg). The other checks
judge each program alone against the checker's own client or server (peers.py), which
sends a request, or a reply, in slow pieces. The fixtures are in conftest.py.
"""

import hashlib

import cases
import conversation
import pytest
from capture import BOUND, client_output
from peers import requests

from socklab.checking import expect
from socklab.errors import PlatformError

# The client's first SYN held 3.6 s by the router, and every SYN its kernel sends again
# meanwhile dropped (after 1 s, then 2 s later on older kernels, every second on Linux 6.5
# and later): connect() takes about 3.6 s whatever the kernel, so a client with a timeout
# of 3.5 s on it fails, and one with 4 s (R4: no timeout under 4 s) has time to spare.
HOLD_FIRST_SYN = {"name": "hold-first-syn", "direction": "c2s", "packet": "syn", "nth": 1,
                  "action": "delay", "delay_ms": 3600}
DROP_RETRIED_SYNS = {"name": "drop-retried-syns", "direction": "c2s", "packet": "syn",
                     "nth": [2, 3, 4], "action": "drop"}


def at(conn, seg):
    """When the router saw ``seg``, from the connection's first segment."""
    return f"{(seg.t_in - conn.segments[0].t_in) * 1000:.1f} ms"


@pytest.mark.points(2)
@pytest.mark.rules("R1", "R4")
def test_three_way_handshake(exchange):
    """The connection opens with SYN, SYN-ACK, ACK"""
    opened = conversation.handshake(exchange.connection())
    if isinstance(opened, str):
        expect.fail("the three-way handshake: SYN from the client, SYN-ACK from the server, "
                    "ACK from the client", opened, exchange.evidence())


@pytest.mark.points(2)
@pytest.mark.rules("R4", "R2")
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
@pytest.mark.rules("R6", "R3", "R5")
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
@pytest.mark.rules("R6")
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
@pytest.mark.rules("R4")
def test_lost_syns(converse, impair):
    """The connection still opens when the router holds the first SYN 3.6 s and drops those sent again"""
    version = impair.set(update={"script": [HOLD_FIRST_SYN, DROP_RETRIED_SYNS]})
    seen = converse("lost-syns", "the exchange, with the client's first SYN held 3.6 s and the "
                    "SYNs sent again meanwhile dropped by the router",
                    "hello again, after a slow handshake", BOUND + 6)
    syns = [e for e in impair.events(version) if e.get("flags") == "S"]
    if len(syns) > 1 and not any(e["decision"].startswith("drop") for e in syns):
        # (a client that gives up before its kernel sends the SYN again sends only one)
        raise PlatformError("the router was told to drop the SYNs sent again but dropped none")
    conn = seen.connection()
    opened = conversation.handshake(conn)
    if isinstance(opened, str):
        expect.fail("the connection established once the client's first SYN, held 3.6 s by "
                    "the router, reached the server (the SYNs sent again meanwhile were "
                    "dropped): connect() must wait that long, R4 says 4 s at least",
                    opened, seen.evidence())
    for way, who in (("c2s", "client"), ("s2c", "server")):
        fin = conversation.fin(conn, way)
        if fin is None or conversation.acknowledgement(conn, fin) is None:
            expect.fail("the exchange to complete after the handshake: both FINs acknowledged",
                        f"the {who}'s FIN " + ("missing" if fin is None else "not acknowledged"),
                        seen.evidence())


def serve_plan(ctx, programs, plan, what, local=False):
    """Send the plan's requests to the student's server (from the client container, or with
    ``local`` from the server's own, to 127.0.0.1), which must stay the same process:
    (the probe's result for each, the problems found)."""
    programs.ensure("server")
    start = programs.starts["server"]
    results = (requests(ctx.container("server"), plan, host="127.0.0.1") if local
               else requests(ctx.container("client"), plan))
    problems = []
    for item, seen in zip(plan, results, strict=True):
        if item.get("end", "fin") == "fin" and (wrong := cases.problem(seen)):
            problems.append(f"{cases.describe_request(item, seen['request']['size'])}: {wrong}")
    if not programs.alive("server") or programs.starts["server"] != start:
        code = programs.running["server"].returncode if "server" in programs.running else None
        problems.append(f"server.py exited (code {code}) during {what}: it must serve client "
                        "after client until it is stopped")
    return results, problems


@pytest.mark.points(1)
@pytest.mark.rules("R1")
def test_server_listens(programs, server, ctx):
    """The server listens on TCP port PORT, on every address: 5000, then a seeded other one"""
    expect.listening_on_the_port_given(programs, server, 5000, ctx.seed)


@pytest.mark.points(3)
@pytest.mark.rules("R2", "R3")
def test_server_reads_to_eof(ctx, programs):
    """The server reads the request to its end (EOF) before it replies, then closes"""
    item = cases.slow_request(ctx.seed)
    _, problems = serve_plan(ctx, programs, [item], "a slow request")
    if problems:
        expect.fail("nothing back before the client's FIN, then the reply '<size> <sha256>\\n' "
                    "and the server's FIN", problems[0])


@pytest.mark.points(1)
@pytest.mark.rules("R3", "R1")
def test_server_empty_request(ctx, programs):
    """An empty request (the client half-closes at once) gets its answer too, also on 127.0.0.1"""
    _, problems = serve_plan(ctx, programs, [{"payload": "empty", "end": "fin"}],
                             "an empty request", local=True)
    if problems:
        expect.fail(f"an empty request (connect, then shutdown(SHUT_WR) at once), from the "
                    f"server's own container to 127.0.0.1:5000 (the server listens on every "
                    f"address): the reply {cases.answer(b'')!r}, then the server's FIN",
                    problems[0])


@pytest.mark.points(2)
@pytest.mark.rules("R2", "R3", "R1")
def test_server_request_sizes(ctx, programs):
    """Requests around 1024, 4096, 8192 and 65536 bytes, cut anywhere, each get their answer"""
    plan = cases.request_sizes(ctx.seed)
    _, problems = serve_plan(ctx, programs, plan, f"{len(plan)} requests")
    if problems:
        expect.fail(f"{len(plan)} requests, one connection each, each answered "
                    "'<size> <sha256>\\n' after the client's FIN, then the server's FIN",
                    "\n  ".join(["", *problems]))


@pytest.mark.points(2)
@pytest.mark.rules("R1")
def test_server_survives_resets(ctx, programs):
    """Clients that reset their connections do not stop the server: the next one is served"""
    plan = cases.resets(ctx.seed)
    _, problems = serve_plan(ctx, programs, plan, "clients that reset their connections")
    if problems:
        expect.fail("the server to go on after clients that reset their connection (in the "
                    "middle of a request, before sending anything, right after their FIN), "
                    "and to answer the next one", "\n  ".join(["", *problems]))


@pytest.mark.points(2)
@pytest.mark.rules("R4")
def test_client_half_closes(against_checker, slow_reply):
    """The client sends its whole MESSAGE (UTF-8), then shuts down its sending side (EOF)"""
    message, _, seen, run = slow_reply
    empty_seen, empty_run = against_checker("", cases.answer(b""))
    for text, got, finished in ((message, seen, run), ("", empty_seen, empty_run)):
        data = text.encode()
        what = (f"a {len(data)}-byte MESSAGE of multi-byte UTF-8 text with newlines"
                if data else "an empty MESSAGE")
        request = got["request"]
        if (request["size"], request["sha256"]) != (len(data), hashlib.sha256(data).hexdigest()):
            expect.fail(f"{what}: the server to receive exactly its {len(data)} UTF-8 bytes",
                        f"{request['size']} bytes, starting {request['head'][:60]!r}",
                        client_output(finished))
        if not got["eof"]:
            expect.fail(f"{what}: a FIN (EOF at the server) right after the request: "
                        "shutdown(SHUT_WR)", "the request, then nothing for 5 s: the client kept "
                        "its side open (the server answers only a complete request)",
                        client_output(finished))


@pytest.mark.points(2)
@pytest.mark.rules("R5")
def test_client_reads_until_eof(slow_reply):
    """The client prints exactly the reply, slow pieces and all, then exits with status 0"""
    _, reply, seen, run = slow_reply
    if not seen["eof"]:
        expect.fail("a request ended by a FIN (shutdown(SHUT_WR)), so that the server replies",
                    "no FIN from the client within 5 s", client_output(run))
    what = (f"the reply ({len(reply.encode())} bytes of UTF-8 text, 3 lines, the last without "
            "a newline) sent in pieces cut anywhere, even inside a character, one pause over "
            "a second, the server's FIN a while after the last byte")
    if run.stdout != reply:
        where = cases.first_difference(reply, run.stdout)
        expect.fail(f"{what}: exactly those bytes on standard output, nothing else",
                    f"standard output differs from character {where}: expected "
                    f"{reply[where:where + 40]!r}, got {run.stdout[where:where + 40]!r}",
                    client_output(run))
    if run.timed_out or run.returncode != 0:
        expect.fail(f"{what}: the client to exit with status 0 after the server's FIN",
                    "it " + (f"was still running after {run.elapsed:.1f} s" if run.timed_out
                             else f"exited with status {run.returncode}"), client_output(run))
