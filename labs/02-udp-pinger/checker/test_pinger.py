"""Lab 2 checker: a UDP echo server, and a pinger judged against the router's log.

The server is driven by the probe from the client container, on a clean link. The
pinger runs against the checker's own echo server over the lab's lossy link; what it
prints (which pings were lost, their RTTs, the summary) is compared with what the
router's impairment engine logged: which requests and replies it dropped, and when
each one crossed it. The student's program cannot influence that log.
"""

import itertools
import random

import pytest
from pinging import (
    NEXT_AT_ONCE,
    PORT,
    RTT_ABOVE,
    RTT_BELOW,
    TIMEOUT,
    datagram_name,
    loss_mismatches,
    pause_problems,
    rtt_mismatches,
    socket_problems,
    summary_mismatches,
    table,
    timestamp_problems,
    wildcard,
)
from probing import MARGIN, ping_through, probe

from socklab.checking import expect
from socklab.i18n import _

LATE_COUNT = 16  # pings in the late-reply run: it still runs when the late reply comes
LATE_DELAY_MS = 50  # each way, in the late-reply run: each ping takes 100 ms or more
LATE_BY_MS = 2000  # the second reply is held this long: it comes during a later ping's wait
GAP = (0.8, 1.6)  # seconds from a lost ping's request to the next one's, at the router
STRAY_COUNT = 10  # pings in the run with late copies of a reply: COUNT's default (not given)
STRAY_DELAY_MS = 20  # each way, in that run
STRAYS_AFTER = 2  # copies of ping 2's reply come while ping 3 (its request dropped) waits
SILENT_COUNT = 2  # pings in the run where the router drops every reply


@pytest.mark.points(1)
@pytest.mark.rules("R1")
def test_server_listens(programs, server, ctx):
    """The server has a UDP socket bound to port PORT, on every address: 5000, then another"""
    programs.ensure("server")
    bound_everywhere(server, PORT)
    other = random.Random(ctx.seed).randrange(PORT + 1, PORT + 1000)  # PORT is the argument
    try:
        programs.start_with("server", {str(PORT): str(other)})
        bound_everywhere(server, other)
    finally:
        programs.stop("server")  # the next checks start it again on port 5000


def bound_everywhere(server, port):
    __tracebackhide__ = True
    out = server.run(f"ss -Hlun 'sport = :{port}'")  # not shown
    if not out.stdout.strip():
        listening = server.run("ss -Hlun").stdout.strip() or _("none")
        expect.fail(_("a UDP socket bound to port {port}").format(port=port),
                    _("UDP sockets (seen with ss in the server): {sockets}").format(sockets=listening))
    local = [line.split()[3] for line in out.stdout.splitlines() if len(line.split()) >= 4]
    if not any(wildcard(address) for address in local):
        expect.fail(_("a UDP socket bound to port {port} on every address (0.0.0.0:{port}: "
                      "bound to \"\")").format(port=port),
                    _("bound to {addresses} only (seen with ss)").format(addresses=", ".join(local)))


@pytest.mark.points(2)
@pytest.mark.rules("R2", "R3")
def test_server_echoes_datagrams(clean, ctx, programs):
    """Every datagram comes back once, unchanged, from port 5000: empty, binary, 1 KiB to 65507 bytes"""
    seen = probe(ctx.container("client"), "datagrams", "--host", "server", "--port", str(PORT),
                 "--seed", str(ctx.seed or 1))
    for sent in seen["datagrams"]:
        what = _("{name} ({size} bytes)").format(name=datagram_name(sent["name"]), size=sent["size"])
        if not sent["sent"]:
            expect.fail(_("{what} echoed").format(what=what), _("not sent: the server had stopped answering"),
                        server_state(programs))
        if not sent["echoed"]:
            others = "; ".join(_("{size} bytes {text} from {source}").format(
                                   size=o["size"], text=repr(o["text"]), source=o["from"])
                               for o in sent["others"])
            expect.fail(_("{what} sent back unchanged within 2 s").format(what=what),
                        _("{others} came back").format(others=others) if others else _("nothing came back"),
                        server_state(programs))
        if sent["from"] != seen["server"]:
            expect.fail(_("{what} echoed from {server} (the address the client sent to)").format(
                            what=what, server=seen["server"]),
                        _("the echo came from {source}: reply from the socket that received").format(
                            source=sent["from"]))
    extra = [(datagram_name(sent["name"]), o) for sent in seen["datagrams"] for o in sent.get("others", [])]
    extra += [(_("the last one"), o) for o in seen["after"]]
    if extra:
        expect.fail(_("exactly one echo for each datagram, and nothing else"),
                    "; ".join(_("{size} bytes {text} came while waiting for the echo of {name} (or after "
                                "it)").format(size=o["size"], text=repr(o["text"][:30]), name=name)
                              for name, o in extra[:3]),
                    server_state(programs))


@pytest.mark.points(2)
@pytest.mark.rules("R3", "R4")
def test_server_serves_every_client(clean, ctx, programs):
    """Three clients at once, after one that vanished: each gets its own echoes, none waits"""
    seen = probe(ctx.container("client"), "clients", "--host", "server", "--port", str(PORT))
    rounds = seen["sent"]
    for i, got in enumerate(seen["got"]):
        mine = [r[i] for r in rounds]
        texts = [g["text"] for g in got]
        if sorted(texts) != sorted(mine) or any(g["from"] != seen["server"] for g in got):
            others = "; ".join(_("{text} from {source} (round {round})").format(
                                   text=repr(g["text"]), source=g["from"], round=g["round"])
                               for g in got)
            expect.fail(_("client {n} to get back exactly its {count} datagrams {datagrams}, each within "
                          "2 s, from {server}").format(
                              n=i + 1, count=len(mine), datagrams=mine, server=seen["server"]),
                        _("it got {others}").format(others=others) if others else _("it got nothing"),
                        server_state(programs))


def server_state(programs) -> str:
    if programs.alive("server"):
        return ""
    return _("the server process has exited")


@pytest.fixture
def run(lossy):
    """The lossy run, readable as pings 1..COUNT (else the check fails, saying why)."""
    return readable(lossy)


def readable(lossy):
    __tracebackhide__ = True
    if lossy.wire_problems:
        expect.fail(_("{count} datagrams 'PING <seq> <timestamp>' numbered 1 to {count}, so the "
                      "checker can tell which ping each one was").format(count=lossy.count),
                    "; ".join(lossy.wire_problems[:4]), ran(lossy))
    return lossy


def ran(run) -> str:
    how = (_("stopped by the checker") if run.finished.timed_out
           else _("exit {status}").format(status=run.finished.returncode))
    out = run.finished.stdout.strip().splitlines()[-15:]
    err = run.finished.stderr.strip().splitlines()[-8:]
    return (_("your pinger ran {seconds:.1f} s ({how}); its output:").format(
                seconds=run.finished.elapsed, how=how) + "\n"
            + "\n".join(f"  | {line}" for line in out + err or [_("(nothing)")]))


@pytest.mark.points(1)
@pytest.mark.rules("R5")
def test_pings_on_the_wire(lossy):
    """The pinger sends COUNT datagrams 'PING <seq> <timestamp>', numbered 1 to COUNT, from one socket"""
    wrong = (lossy.wire_problems + socket_problems(lossy.events)
             + timestamp_problems(lossy.received))
    if wrong:
        expect.fail(_("{count} datagrams to UDP port {port} from one socket, each 'PING <seq> "
                      "<timestamp>', numbered 1 to {count}, the timestamp time.time() when it was sent "
                      "(seen at the router and the checker's server)").format(count=lossy.count, port=PORT),
                    "; ".join(wrong[:4]), ran(lossy))


@pytest.mark.points(3)
@pytest.mark.rules("R6", "R8", "R10")
def test_losses_match_router(run):
    """Each ping the router dropped (request or reply) is reported lost, every other one answered"""
    wrong = run.report.problems + loss_mismatches(run.pings, run.report)
    if wrong:
        expect.fail(_("one line per ping: 'seq=N timeout' exactly for the pings whose request or "
                      "reply the router dropped, 'seq=N rtt=X ms' for the others"),
                    "; ".join(wrong[:4]), table(run.pings, run.report) + "\n" + ran(run))


@pytest.mark.points(2)
@pytest.mark.rules("R8")
def test_rtts_match_router(run):
    """Each reported RTT matches the time the router saw between the request and its reply"""
    answered = [p for p in run.pings if p.verdict == "answered"]
    shown = [p for p in answered if run.report.rtts.get(p.seq) is not None]
    wrong = rtt_mismatches(run.pings, run.report)
    if answered and not shown:
        wrong.append(_("no RTT printed for any of the {count} answered pings").format(count=len(answered)))
    if wrong:
        expect.fail(_("each RTT no shorter than the router held the request and its reply (less "
                      "{below:g} ms for rounding), and at most {above:g} ms longer than they took to "
                      "cross it").format(below=RTT_BELOW, above=RTT_ABOVE),
                    "; ".join(wrong[:4]), table(run.pings, run.report) + "\n" + ran(run))


@pytest.mark.points(2)
@pytest.mark.rules("R6", "R7")
def test_timeouts_honoured(lossy):
    """A lost ping is waited for 1 s, no more and not much less, an answered one not at all"""
    finished, bound = lossy.finished, lossy.count * TIMEOUT + MARGIN
    if finished.timed_out:
        waiting = lossy.pings[-1] if lossy.pings else None
        expect.fail(_("the pinger to finish {count} pings within {bound:g} s").format(
                        count=lossy.count, bound=bound),
                    _("still running after {seconds:.0f} s (stopped by the checker); the last ping it "
                      "sent was ping {seq}: {fate}. Does it give up waiting after 1 s?").format(
                          seconds=finished.elapsed, seq=waiting.seq, fate=waiting.fate())
                    if waiting else
                    _("still running after {seconds:.0f} s (stopped by the checker); it sent nothing. "
                      "Does it give up waiting after 1 s?").format(seconds=finished.elapsed),
                    ran(lossy))
    if finished.elapsed > bound:
        expect.fail(_("{count} pings done within {bound:g} s").format(count=lossy.count, bound=bound),
                    _("{seconds:.1f} s").format(seconds=finished.elapsed), ran(lossy))
    run_ = readable(lossy)
    for lost, after in itertools.pairwise(run_.pings):
        if lost.verdict != "lost":
            continue
        gap = after.request["t_in"] - lost.request["t_in"]
        if not GAP[0] <= gap <= GAP[1]:
            expect.fail(_("after ping {seq} ({fate}), the next ping sent once the 1 s timeout ran "
                          "out: {low:g} to {high:g} s later").format(
                              seq=lost.seq, fate=lost.fate(), low=GAP[0], high=GAP[1]),
                        _("ping {seq} reached the router {gap:.2f} s after ping {lost}").format(
                            seq=after.seq, gap=gap, lost=lost.seq),
                        table(run_.pings, run_.report))
    if paused := pause_problems(run_.pings, run_.report):
        expect.fail(_("the next ping sent as soon as a reply came (within {seconds:g} s at the "
                      "router): no pause between pings").format(seconds=NEXT_AT_ONCE), "; ".join(paused[:3]),
                    table(run_.pings, run_.report))


def then_the_pinger(run) -> str:
    """What the pinger did after a right summary: it should have exited with status 0."""
    if run.finished.timed_out:
        return _("then the pinger was still running")
    return _("then the pinger exited with status {status}").format(status=run.finished.returncode)


@pytest.mark.points(2)
@pytest.mark.rules("R9")
def test_summary_matches_router(run):
    """The summary line: pings sent and received, loss, min/avg/max RTT, as the router saw them"""
    expected, wrong = summary_mismatches(run.pings, run.report, run.count)
    if not wrong and (run.finished.timed_out or run.finished.returncode != 0):
        wrong = [then_the_pinger(run)]
    if wrong:
        expect.fail(_("a summary line like {expected}").format(expected=expected), "; ".join(wrong),
                    table(run.pings, run.report) + "\n" + ran(run))


@pytest.mark.points(2)
@pytest.mark.rules("R6", "R8", "R9", "R10")
def test_late_reply_not_counted(ctx, programs, impair):
    """A reply that comes 2 s late is not taken for the ping then waiting: replies match by seq"""
    late = {"name": "late-2nd-reply", "direction": "s2c", "proto": "udp", "packet": "data",
            "nth": 2, "per": "direction", "action": "delay", "delay_ms": LATE_BY_MS}
    each_way = {"delay_ms": LATE_DELAY_MS}
    run = ping_through(ctx, programs, impair, LATE_COUNT, name="pinger-late-reply",
                       config={"c2s": each_way, "s2c": each_way, "script": [late]})
    if run.wire_problems:
        expect.fail(_("{count} datagrams 'PING <seq> <timestamp>' numbered 1 to {count}").format(
                        count=LATE_COUNT), "; ".join(run.wire_problems[:4]), ran(run))
    held = next((p for p in run.pings if p.reply and p.reply["rule"] == late["name"]), None)
    during = ""
    if held is not None and held.reply is not None:
        arrived = held.reply["t_out"]
        later = [p for p in run.pings if p.request["t_in"] < arrived]
        during = _("the reply to ping {seq} left the router {seconds:.2f} s after its request, after "
                   "your pinger had sent ping {later}").format(
                       seq=held.seq, seconds=held.rtt / 1000, later=later[-1].seq) + "\n"
    wrong = (run.report.problems + loss_mismatches(run.pings, run.report)
             + rtt_mismatches(run.pings, run.report))
    expected, summary_wrong = summary_mismatches(run.pings, run.report, run.count)
    wrong += [_("summary: {wrong} (expected {expected})").format(wrong=w, expected=expected)
              for w in summary_wrong]
    if wrong:
        expect.fail(_("ping {seq} reported as 'timeout' (its reply came after 1 s), every other ping "
                      "with its own RTT, and the summary counting only those: match each reply to its "
                      "request by the sequence number it carries").format(seq=held.seq if held else 2),
                    "; ".join(wrong[:4]), during + table(run.pings, run.report) + "\n" + ran(run))


@pytest.mark.points(2)
@pytest.mark.rules("R5", "R6", "R9", "R10")
def test_late_copies_ignored(ctx, programs, impair):
    """Without COUNT, 10 pings; copies of an old reply come while a lost ping waits: 1 s, no more"""
    drop = {"name": "drop-3rd-request", "direction": "c2s", "proto": "udp", "packet": "data",
            "nth": STRAYS_AFTER + 1, "per": "direction", "action": "drop"}
    each_way = {"delay_ms": STRAY_DELAY_MS}
    run = ping_through(ctx, programs, impair, STRAY_COUNT, strays_after=STRAYS_AFTER,
                       default_count=True, name="pinger-late-copies",
                       config={"c2s": each_way, "s2c": each_way, "script": [drop]})
    if run.wire_problems:
        expect.fail(_("{count} datagrams 'PING <seq> <timestamp>' numbered 1 to {count} (run as "
                      "'pinger.py server {port}': COUNT not given, so 10)").format(
                          count=STRAY_COUNT, port=PORT),
                    "; ".join(run.wire_problems[:4]), ran(run))
    lost = run.pings[STRAYS_AFTER]
    wrong = run.report.problems + loss_mismatches(run.pings, run.report)
    expected, summary_wrong = summary_mismatches(run.pings, run.report, run.count)
    wrong += [_("summary: {wrong} (expected {expected})").format(wrong=w, expected=expected)
              for w in summary_wrong]
    after = run.pings[STRAYS_AFTER + 1] if len(run.pings) > STRAYS_AFTER + 1 else None
    if not wrong and after is not None:
        gap = after.request["t_in"] - lost.request["t_in"]
        if not GAP[0] <= gap <= GAP[1]:
            wrong.append(_("ping {seq} reached the router {gap:.2f} s after ping {lost}").format(
                seq=after.seq, gap=gap, lost=lost.seq))
    if wrong:
        expect.fail(_("ping {seq} ({fate}) reported 'timeout' after waiting 1 s from its sending, "
                      "{low:g} to {high:g} s at the router, while copies of ping {copied}'s reply came "
                      "every 0.25 s: they are no reply to ping {seq}, they do not restart its second, "
                      "and the summary does not count them").format(
                          seq=lost.seq, fate=lost.fate(), low=GAP[0], high=GAP[1], copied=STRAYS_AFTER),
                    "; ".join(wrong[:4]), table(run.pings, run.report) + "\n" + ran(run))


@pytest.mark.points(1)
@pytest.mark.rules("R6", "R9")
def test_nothing_answered(ctx, programs, impair):
    """Every reply lost: each ping 'timeout', a summary of 0 received with no RTTs, exit status 0"""
    each_way = {"delay_ms": STRAY_DELAY_MS}
    run = ping_through(ctx, programs, impair, SILENT_COUNT, name="pinger-nothing-answered",
                       config={"c2s": each_way, "s2c": {**each_way, "loss": 1.0}})
    if run.wire_problems:
        expect.fail(_("{count} datagrams 'PING <seq> <timestamp>' numbered 1 to {count}").format(
                        count=SILENT_COUNT), "; ".join(run.wire_problems[:4]), ran(run))
    wrong = run.report.problems + loss_mismatches(run.pings, run.report)
    expected, summary_wrong = summary_mismatches(run.pings, run.report, run.count)
    wrong += [_("summary: {wrong}").format(wrong=w) for w in summary_wrong]
    if not wrong and (run.finished.timed_out or run.finished.returncode != 0):
        wrong = [then_the_pinger(run)]
    if wrong:
        expect.fail(_("with every reply dropped by the router, each ping reported 'timeout', then a "
                      "summary line like {expected}, and exit status 0").format(expected=expected),
                    "; ".join(wrong[:4]), table(run.pings, run.report) + "\n" + ran(run))
