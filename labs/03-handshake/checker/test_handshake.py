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
from socklab.i18n import _

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
        expect.fail(_("the three-way handshake: SYN from the client, SYN-ACK from the server, "
                      "ACK from the client"), opened, exchange.evidence())


@pytest.mark.points(2)
@pytest.mark.rules("R4", "R2")
def test_client_closes_first(exchange, against_checker):
    """The client half-closes first: its FIN comes before the server's reply"""
    conn = exchange.connection()
    client_fin = conversation.fin(conn, "c2s")
    reply = conversation.first_data(conn, "s2c")
    server_fin = conversation.fin(conn, "s2c")
    if client_fin is None:
        expect.fail(_("a FIN from the client right after its request (shutdown(SHUT_WR))"),
                    _("no FIN from the client"), exchange.evidence())
    early = [_("the server's reply at {at}").format(at=at(conn, reply))] if reply is not None and \
        reply.t_in < client_fin.t_in else []
    if server_fin is not None and server_fin.t_in < client_fin.t_in:
        early.append(_("the server's FIN at {at}").format(at=at(conn, server_fin)))
    if not early:
        return
    # A server that answers before the request's end races the client's FIN: which came
    # first then says nothing about the client. The checker's server waits for the FIN.
    seen, _run = against_checker("are you closing?", "ok\n")  # not shown: data, sent
    if not seen["eof"]:
        before = (_("{first} and {second}").format(first=early[0], second=early[1]) if len(early) > 1
                  else early[0])
        expect.fail(_("the client's FIN before the server's reply: the client says its request "
                      "is complete (shutdown(SHUT_WR)), the server answers after that"),
                    _("{before}, the client's FIN only at {at}; against the checker's server, which "
                      "answers only after the client's FIN, no FIN came within 5 s").format(
                          before=before, at=at(conn, client_fin)), exchange.evidence())


@pytest.mark.points(2)
@pytest.mark.rules("R6", "R3", "R5")
def test_four_way_close(exchange):
    """The four-way close: a FIN from each side, each acknowledged by the other"""
    conn = exchange.connection()
    sides = (("c2s", _("client"), _("server"), ""),
             ("s2c", _("server"), _("client"), _(" (does the server close() each connection after its "
                                                 "reply?)")))
    for way, who, other, hint in sides:
        fin = conversation.fin(conn, way)
        if fin is None:
            expect.fail(_("a FIN from the {who}: it closes its side once it has sent everything").format(
                            who=who),
                        _("no FIN from the {who} within {seconds:g} s: the connection stayed "
                          "open{hint}").format(who=who, seconds=BOUND, hint=hint), exchange.evidence())
        if conversation.acknowledgement(conn, fin) is None:
            expect.fail(_("the {other} to acknowledge the {who}'s FIN").format(other=other, who=who),
                        _("the {who}'s FIN at {at} was never acknowledged").format(who=who, at=at(conn, fin)),
                        exchange.evidence())


@pytest.mark.points(2)
@pytest.mark.rules("R6")
def test_no_reset(exchange):
    """The connection ends without a reset (no RST from either side)"""
    conn = exchange.connection()
    resets = conversation.resets(conn)
    if resets:
        first = resets[0]
        who, why = ((_("client"), _("a socket closed with data unread, or data arriving after it "
                                    "closed, is reset: read the reply to its end (recv() returns b\"\") "
                                    "before closing")) if first.way == "c2s" else
                    (_("server"), _("a socket closed with data unread, or data arriving after it "
                                    "closed, is reset: read the request to its end before replying and "
                                    "closing")))
        expect.fail(_("a graceful close: FINs, no RST"),
                    _("{count} RST segment(s), the first from the {who} at {at}; {why}").format(
                        count=len(resets), who=who, at=at(conn, first), why=why), exchange.evidence())


@pytest.mark.points(2)
@pytest.mark.rules("R4")
def test_lost_syns(converse, impair):
    """The connection still opens when the router holds the first SYN 3.6 s and drops those sent again"""
    version = impair.set(update={"script": [HOLD_FIRST_SYN, DROP_RETRIED_SYNS]})
    seen = converse("lost-syns", _("the exchange, with the client's first SYN held 3.6 s and the "
                                   "SYNs sent again meanwhile dropped by the router"),
                    "hello again, after a slow handshake", BOUND + 6)  # not shown: the MESSAGE, data
    syns = [e for e in impair.events(version) if e.get("flags") == "S"]
    if len(syns) > 1 and not any(e["decision"].startswith("drop") for e in syns):
        # (a client that gives up before its kernel sends the SYN again sends only one)
        raise PlatformError(_("the router was told to drop the SYNs sent again but dropped none"))
    conn = seen.connection()
    opened = conversation.handshake(conn)
    if isinstance(opened, str):
        expect.fail(_("the connection established once the client's first SYN, held 3.6 s by "
                      "the router, reached the server (the SYNs sent again meanwhile were "
                      "dropped): connect() must wait that long, R4 says 4 s at least"),
                    opened, seen.evidence())
    for way, who in (("c2s", _("client")), ("s2c", _("server"))):
        fin = conversation.fin(conn, way)
        if fin is None or conversation.acknowledgement(conn, fin) is None:
            expect.fail(_("the exchange to complete after the handshake: both FINs acknowledged"),
                        _("the {who}'s FIN missing").format(who=who) if fin is None else
                        _("the {who}'s FIN not acknowledged").format(who=who),
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
            problems.append(_("{request}: {problem}").format(
                request=cases.describe_request(item, seen["request"]["size"]), problem=wrong))
    if not programs.alive("server") or programs.starts["server"] != start:
        code = programs.running["server"].returncode if "server" in programs.running else None
        problems.append(_("server.py exited (code {code}) during {what}: it must serve client after "
                          "client until it is stopped").format(code=code, what=what))
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
    _results, problems = serve_plan(ctx, programs, [item], _("a slow request"))
    if problems:
        expect.fail(_("nothing back before the client's FIN, then the reply '<size> <sha256>\\n' "
                      "and the server's FIN"), problems[0])


@pytest.mark.points(1)
@pytest.mark.rules("R3", "R1")
def test_server_empty_request(ctx, programs):
    """An empty request (the client half-closes at once) gets its answer too, also on 127.0.0.1"""
    _results, problems = serve_plan(ctx, programs, [{"payload": "empty", "end": "fin"}],
                                    _("an empty request"), local=True)
    if problems:
        expect.fail(_("an empty request (connect, then shutdown(SHUT_WR) at once), from the "
                      "server's own container to 127.0.0.1:5000 (the server listens on every "
                      "address): the reply {reply}, then the server's FIN").format(
                          reply=repr(cases.answer(b""))),
                    problems[0])


@pytest.mark.points(2)
@pytest.mark.rules("R2", "R3", "R1")
def test_server_request_sizes(ctx, programs):
    """Requests around 1024, 4096, 8192 and 65536 bytes, cut anywhere, each get their answer"""
    plan = cases.request_sizes(ctx.seed)
    _results, problems = serve_plan(ctx, programs, plan, _("{count} requests").format(count=len(plan)))
    if problems:
        expect.fail(_("{count} requests, one connection each, each answered '<size> <sha256>\\n' after "
                      "the client's FIN, then the server's FIN").format(count=len(plan)),
                    "\n  ".join(["", *problems]))


@pytest.mark.points(2)
@pytest.mark.rules("R1")
def test_server_survives_resets(ctx, programs):
    """Clients that reset their connections do not stop the server: the next one is served"""
    plan = cases.resets(ctx.seed)
    _results, problems = serve_plan(ctx, programs, plan, _("clients that reset their connections"))
    if problems:
        expect.fail(_("the server to go on after clients that reset their connection (in the "
                      "middle of a request, before sending anything, right after their FIN), "
                      "and to answer the next one"), "\n  ".join(["", *problems]))


@pytest.mark.points(2)
@pytest.mark.rules("R4")
def test_client_half_closes(against_checker, slow_reply):
    """The client sends its whole MESSAGE (UTF-8), then shuts down its sending side (EOF)"""
    message, _reply, seen, run = slow_reply
    empty_seen, empty_run = against_checker("", cases.answer(b""))
    for text, got, finished in ((message, seen, run), ("", empty_seen, empty_run)):
        data = text.encode()
        what = (_("a {size}-byte MESSAGE of multi-byte UTF-8 text with newlines").format(size=len(data))
                if data else _("an empty MESSAGE"))
        request = got["request"]
        if (request["size"], request["sha256"]) != (len(data), hashlib.sha256(data).hexdigest()):
            expect.fail(_("{what}: the server to receive exactly its {size} UTF-8 bytes").format(
                            what=what, size=len(data)),
                        _("{size} bytes, starting {head}").format(
                            size=request["size"], head=shown_head(request["head"])),
                        client_output(finished))
        if not got["eof"]:
            expect.fail(_("{what}: a FIN (EOF at the server) right after the request: "
                          "shutdown(SHUT_WR)").format(what=what),
                        _("the request, then nothing for 5 s: the client kept its side open (the server "
                          "answers only a complete request)"),
                        client_output(finished))


@pytest.mark.points(2)
@pytest.mark.rules("R5")
def test_client_reads_until_eof(slow_reply):
    """The client prints exactly the reply, slow pieces and all, then exits with status 0"""
    _message, reply, seen, run = slow_reply
    if not seen["eof"]:
        expect.fail(_("a request ended by a FIN (shutdown(SHUT_WR)), so that the server replies"),
                    _("no FIN from the client within 5 s"), client_output(run))
    what = _("the reply ({size} bytes of UTF-8 text, 3 lines, the last without a newline) sent in "
             "pieces cut anywhere, even inside a character, one pause over a second, the server's FIN "
             "a while after the last byte").format(size=len(reply.encode()))
    if run.stdout != reply:
        where = cases.first_difference(reply, run.stdout)
        expect.fail(_("{what}: exactly those bytes on standard output, nothing else").format(what=what),
                    _("standard output differs from character {where}: expected {want}, got {got}").format(
                        where=where, want=repr(reply[where:where + 40]),
                        got=repr(run.stdout[where:where + 40])),
                    client_output(run))
    if run.timed_out or run.returncode != 0:
        expect.fail(_("{what}: the client to exit with status 0 after the server's FIN").format(what=what),
                    _("it was still running after {seconds:.1f} s").format(seconds=run.elapsed)
                    if run.timed_out else
                    _("it exited with status {status}").format(status=run.returncode), client_output(run))


def shown_head(head: str) -> str:
    """The first bytes of a request, which the probe carries as latin-1 (one character a
    byte): shown as the UTF-8 text they are, any byte that is not as an escape."""
    return repr(head.encode("latin-1")[:60].decode("utf-8", "backslashreplace"))
