"""Lab 8 checker: reliable file transfer over UDP, judged by the file that arrived, by the
programs' exit statuses, and by what crossed the router.

Every transfer runs the student's sender in the client container and their receiver in
the server container; the receiver's file is compared byte for byte with what was sent.
The router's engine logs every packet's fate, and some transfers are captured on the
router: the capture shows which packet left which program when, and what reached it.
Every scripted impairment is a seeded random schedule (links.py), never a fixed period.
"""

import random

import gone
import links
import pytest
import rdt_wire
from conftest import craft
from transfer import PORT, arrived, ended

from socklab.checking import expect
from socklab.i18n import _, ngettext

WILDCARDS = ("0.0.0.0", "*", "[::]", "::")
LINGER_AT_LEAST = 0.9  # s: the 1 s a receiver lingers after the last packet, less the clocks' slack


@pytest.mark.points(1)
@pytest.mark.rules("R1")
def test_receiver_binds_port(programs, server):
    """The receiver binds UDP port 5000 on every address"""
    programs.start("receiver", ["/scratch/bind.received"])
    programs.wait_ready("receiver", timeout=30)
    expect.listening(server, PORT, "udp")
    sockets = [s for s in server.socket.get_listening_sockets()
               if s.startswith("udp://") and s.endswith(f":{PORT}")]
    if not any(s[len("udp://"):-len(f":{PORT}")] in WILDCARDS for s in sockets):
        expect.fail(_("UDP port {port} bound on every address (0.0.0.0)").format(port=PORT),
                    _("bound only as {sockets} (seen with ss in the server container)").format(
                        sockets=", ".join(sockets)))


@pytest.mark.points(2)
@pytest.mark.rules("R6", "R10", "R12")
def test_clean_link(transfers):
    """A 20 KiB file over a clean link arrives whole; both programs exit with status 0"""
    arrived(transfers.run("clean", 20 * 1024, "stop-and-wait",
                          _("a 20480-byte file (exactly 20 payloads), stop-and-wait, over a clean "
                            "link"), bound=30, link={"profile": "clean"}))


@pytest.mark.points(1)
@pytest.mark.rules("R6", "R10", "R12")
def test_empty_file(transfers):
    """An empty file arrives as an empty file (window mode, clean link)"""
    arrived(transfers.run("empty", 0, "window", _("an empty file, window mode, over a clean link"),
                          bound=30, link={"profile": "clean"}))


@pytest.mark.points(4)
@pytest.mark.rules("R6", "R7", "R10", "R12")
def test_stop_and_wait_impaired(stop_and_wait, ctx):
    """Stop-and-wait: about 100 KB through loss, copies, reordering and damage: whole, resent in time"""
    t = stop_and_wait
    arrived(t)
    gap, at = rdt_wire.longest_silence(t.wire(), ctx.addresses["client"])
    if gap > rdt_wire.SILENCE:
        expect.fail(_("a packet unacknowledged sent again once its timeout (at most 0.5 s) has "
                      "passed: the sender never silent longer while it has one"),
                    _("the sender sent nothing for {gap:.2f} s (from +{at:.3f} s, seen on the "
                      "router), with a packet unacknowledged").format(gap=gap, at=at), t.evidence())


@pytest.mark.points(3)
@pytest.mark.rules("R8")
def test_stop_and_wait_one_in_flight(stop_and_wait, ctx):
    """Stop-and-wait: never a packet sent before the previous one was acknowledged"""
    t = stop_and_wait
    flight = rdt_wire.in_flight(t.wire(), ctx.addresses["client"])
    packets = -(-len(t.data) // rdt_wire.MAX_PAYLOAD)  # and the FIN, numbered `packets`
    evidence = t.evidence() + "\n" + _("(the capture: {sent} data and FIN packets from the "
                                       "client, {foreign} other datagrams)").format(
        sent=flight.sent, foreign=flight.foreign)
    if flight.excess:
        expect.fail(_("at most one packet in flight: packet n leaves the client only after an "
                      "intact ACK asking for n (ACK n: every packet before n arrived) has reached "
                      "it; sending packet n again after a timeout is fine"),
                    _("{first}; {count} packets were sent so, up to {most} in flight at once").format(
                        first=flight.first_excess, count=flight.excess, most=flight.most), evidence)
    wanted = set(range(packets + 1))
    if not wanted <= flight.numbers:
        missing = sorted(wanted - flight.numbers)
        expect.fail(_("the sender to send data packets 0 to {last} and the FIN {fin}, "
                      "in the lab's format (README: the packets), one at a time").format(
                        last=packets - 1, fin=packets),
                    _("{count} of them never sent (the first: {first})").format(
                        count=len(missing), first=missing[0]), evidence)


@pytest.mark.points(2)
@pytest.mark.rules("R2", "R3", "R5")
def test_packets_on_the_wire(stop_and_wait, ctx):
    """Seen on the router: packets in the format, payloads cut as the README says, honest ACKs"""
    t = stop_and_wait
    problems = rdt_wire.wire_problems(t.wire(), ctx.addresses["client"],
                                      ctx.addresses["server"], t.data)
    if problems:
        more = ngettext(" (and {count} more problem)", " (and {count} more problems)",
                        len(problems) - 1).format(count=len(problems) - 1) if len(problems) > 1 else ""
        expect.fail(_("every packet as the README's rules say: the format (R2), data packet n "
                      "holding the file's bytes 1024n to 1024n + 1023 and the FIN numbered with "
                      "the count of data packets (R3), each intact data packet that reached the "
                      "receiver answered by an ACK asking for the lowest number it lacked (R5)"),
                    problems[0] + more, t.evidence())


@pytest.mark.points(3)
@pytest.mark.rules("R6", "R7", "R10", "R12")
def test_window_impaired(transfers, ctx):
    """Window: about 500 KB through loss, copies, reordering and damage arrive whole"""
    size = random.Random(f"{ctx.seed}:window-size").randint(480_000, 540_000)
    arrived(transfers.run("window", size, "window",
                          _("a {size}-byte file, window mode, through the rdt link").format(size=size),
                          bound=90, link={"profile": "rdt"}))


@pytest.mark.points(3)
@pytest.mark.rules("R9")
def test_window_faster(transfers):
    """Window mode: 8 packets or more in flight, at least twice as fast as stop-and-wait"""
    size = 64 * 1024
    runs = {}
    for mode in ("stop-and-wait", "window"):
        t = transfers.run(f"speed-{mode}", size, mode,
                          _("a 64 KiB file, {mode}, over a link with 15 ms each way (no loss)").format(
                              mode=mode),
                          bound=60, link={"config": links.SLOW, "name": "slow"})
        arrived(t)
        runs[mode] = t
    ahead = rdt_wire.sent_before_first_ack(runs["window"].events)
    if ahead < 8:
        expect.fail(_("window mode: a window of 8 packets or more, so the first 8 of the file's "
                      "64 packets leave before any ACK could have come back (30 ms round trips)"),
                    _("{count} packets left the client before the first ACK reached it").format(count=ahead),
                    runs["window"].evidence())
    saw, window = runs["stop-and-wait"].seconds(), runs["window"].seconds()
    if saw is None or window is None or window * 2 > saw:
        expect.fail(_("window mode at least twice as fast as stop-and-wait (64 packets, 30 ms "
                      "round trips: one packet per round trip against many)"),
                    _("stop-and-wait took {saw:.2f} s, window mode {window:.2f} s (from the first "
                      "packet into the router to the last one out)").format(saw=saw, window=window))


@pytest.mark.points(2)
@pytest.mark.rules("R4")
def test_damaged_packets_rejected(damaged):
    """Damaged packets (crafted ones, about 1 in 8 flipped by the router) are dropped"""
    t = damaged
    if t.crashed:
        expect.fail(_("the receiver to drop damaged packets (bad CRC-32, unknown kind, wrong "
                      "length, too short) as if lost, and go on"),
                    _("it exited (status {status}) after the 6 damaged packets sent "
                      "to it (its output is below)").format(status=t.receiver_status))
    if t.replies:
        expect.fail(_("the receiver to drop damaged packets (bad CRC-32, unknown kind, wrong "
                      "length, too short) without a word, as if lost"),
                    _("it answered them with {count} packets, the first {first}").format(
                        count=len(t.replies), first=t.replies[0][:16].hex()), t.evidence())
    arrived(t)


@pytest.mark.points(1)
@pytest.mark.rules("R5", "R6")
def test_keeps_packets_ahead_of_a_gap(damaged, ctx):
    """Seen on the router: packets that arrive after a damaged one are kept, not asked again"""
    t = damaged
    if t.crashed:
        expect.fail(_("a transfer to judge"), _("the receiver exited on the damaged packets sent "
                                                "to it before (see test_damaged_packets_rejected)"))
    short = rdt_wire.short_acks(t.wire(), ctx.addresses["server"], len(t.data) // 1024)
    if short:
        more = _(" (and {count} more)").format(count=len(short) - 1) if len(short) > 1 else ""
        expect.fail(_("each ACK asking for the lowest number the receiver lacks, counting the "
                      "packets it keeps that came ahead of a gap (a damaged packet is a gap)"),
                    short[0] + more, t.evidence())


@pytest.mark.points(1)
@pytest.mark.rules("R5", "R6")
def test_duplicates_ignored(transfers, ctx):
    """About one packet in 4 copied, both ways: each data packet is written once"""
    size = random.Random(f"{ctx.seed}:copies-size").randint(35_000, 45_000)
    packets = -(-size // 1024)
    arrived(transfers.run("copies", size, "stop-and-wait",
                          _("a {size}-byte file, stop-and-wait, about 1 data packet in 4 and 1 "
                            "ACK in 4 copied (seeded, at random)").format(size=size), bound=60,
                          link={"config": links.copying(ctx.seed, packets), "name": "copying"}))


@pytest.mark.points(2)
@pytest.mark.rules("R7", "R10", "R12")
def test_end_handshake(transfers, ctx):
    """FINs lost and held: the FIN is sent again and answered; status 0 only after its ACK"""
    rng = random.Random(f"{ctx.seed}:end")
    size = rng.randint(3_000, 12_000)
    packets = -(-size // 1024)
    config, lost = links.fin_link(ctx.seed, packets)
    # before any data, intact FINs that are not the next packet (numbered as the file's
    # FIN will be, and beyond): the receiver must not take them (R12)
    early_fins = [craft(b"F", packets, b""), craft(b"F", packets + rng.randint(1, 9), b"")]
    t = transfers.run("end", size, "window",
                      _("a {size}-byte file, window mode, after two intact FINs numbered "
                        "{packets} or more sent to the receiver before any data, the first "
                        "{lost} FINs lost by the router, the next held {hold} ms, "
                        "the ACK asking for {packets} copied").format(
                          size=size, packets=packets, lost=lost, hold=links.FIN_HOLD_MS),
                      bound=30, link={"config": config, "name": "fins-lost"},
                      capture=True, peek=True, quiet=links.FIN_HOLD_MS / 1000 + 0.3,
                      crafted=early_fins)
    took = [q.seq for r in t.replies if (q := rdt_wire.parse(r)) and q.sound and q.kind == "A"
            and q.seq > 0]
    if took or t.crashed:
        expect.fail(_("the receiver to take a FIN only once every data packet before it is "
                      "written: FINs numbered {packets} and more, sent before any data packet, "
                      "not taken (nothing acknowledged: an ACK asks for 0 at most)").format(packets=packets),
                    _("it answered them with ACK {took}").format(took=took) if took else
                    _("it exited (status {status}) after them").format(status=t.receiver_status),
                    t.evidence())
    end = rdt_wire.ending(t.wire(), ctx.addresses["client"], ctx.addresses["server"], packets)
    seen = t.evidence() + "\n" + _("(the capture: the sender sent {fins} FIN(s) {fin}, "
                                   "{fins_reached} reached the receiver, which sent {acks_sent} ACK(s) "
                                   "{ack}; {acks_reached} reached the sender)").format(
        fins=end.fins, fin=packets, fins_reached=end.fins_reached, acks_sent=end.acks_sent,
        ack=packets + 1, acks_reached=end.acks_reached)
    if t.sender.returncode == 0 and not t.sender.timed_out and end.acks_reached == 0:
        expect.fail(_("the sender to exit with status 0 only once an intact ACK asking for "
                      "{ack} (FIN + 1) has reached it").format(ack=packets + 1),
                    _("it exited with status 0, and no such ACK ever reached it"), seen)
    gone = [r for r in t.refused if (q := rdt_wire.parse(r)) and q.sound and q.kind == "A"
            and q.seq == packets + 1]
    if t.sender.returncode == 0 and end.acks_reached and len(gone) >= end.acks_reached:
        expect.fail(_("the sender to exit with status 0 only once an intact ACK asking for "
                      "{ack} (FIN + 1) has reached it").format(ack=packets + 1),
                    _("each of the {count} ACK(s) of the FIN that reached the client "
                      "found its socket closed (the client answered ICMP port unreachable): the "
                      "sender had gone before the first arrived").format(count=end.acks_reached), seen)
    if end.early:
        expect.fail(_("the FIN sent only once every data packet is acknowledged (an intact ACK "
                      "asking for {packets} has reached the sender)").format(packets=packets),
                    end.early, seen)
    if end.unanswered:
        expect.fail(_("the receiver to linger after the FIN (until no packet has come for 1 s) "
                      "and answer every repeated FIN with ACK {ack}").format(ack=packets + 1),
                    end.unanswered, seen)
    if end.longest_wait > rdt_wire.SILENCE:
        expect.fail(_("the FIN sent again within the timeout, at most 0.5 s (the receiver "
                      "lingers only 1 s after the last packet)"),
                    _("{wait:.2f} s between two FINs").format(wait=end.longest_wait), seen)
    if t.sender.timed_out or t.sender.returncode != 0:
        if end.fins <= lost:
            why = _("the router lost the first {lost} FINs, and the sender sent the FIN only "
                    "{fins} time(s)").format(lost=lost, fins=end.fins)
        elif end.acks_sent < end.fins_reached:
            why = _("{reached} FINs reached the receiver, which answered only "
                    "{answered} of them (it must linger and answer every repeated FIN)").format(
                reached=end.fins_reached, answered=end.acks_sent)
        else:
            why = _("the sender exited with status {status}").format(status=t.sender.returncode)
        expect.fail(_("the sender to exit with status 0 once an ACK of its FIN got through"),
                    why, seen)
    last = rdt_wire.last_in(t.wire(), ctx.addresses["server"])
    if t.receiver_exit_at is not None and last is not None and \
            t.receiver_exit_at - last < LINGER_AT_LEAST:
        expect.fail(_("the receiver to exit once no packet has come for 1 s (not sooner): it "
                      "lingers after the FIN for as long as packets keep coming"),
                    _("it had exited {after:.2f} s after the last packet "
                      "reached it (seen by the router's clock and the checker's)").format(
                        after=t.receiver_exit_at - last), seen)
    if t.early != t.data:
        have = _("no file") if t.early is None else _("{size} bytes of {total}").format(
            size=len(t.early), total=len(t.data))
        expect.fail(_("OUTFILE complete (written and closed) when the receiver acknowledges the "
                      "FIN"), _("right after the sender got that ACK and exited, OUTFILE held "
                                "{have}").format(have=have), seen)
    arrived(t)


@pytest.mark.points(1)
@pytest.mark.rules("R7", "R11")
def test_sender_gives_up(transfers, ctx):
    """Every ACK lost: the sender gives up 5 s after its first FIN, with status 1"""
    mode = random.Random(f"{ctx.seed}:give-up").choice(["stop-and-wait", "window"])
    t = transfers.run("give-up", 0, mode,
                      _("an empty file, {mode}, every packet from the receiver lost").format(mode=mode),
                      bound=20,
                      link={"config": links.ACKS_LOST, "name": "acks-lost"})
    if t.sender.timed_out:
        expect.fail(_("the sender to give up 5 s after its first FIN, no ACK of it having come"),
                    _("it was still running after 20 s"), t.evidence())
    if t.sender.returncode == 1 and t.sender.elapsed < 5.0:
        expect.fail(_("the sender to give up 5 s after its first FIN, no ACK of it having come"),
                    _("it gave up after {elapsed:.2f} s").format(elapsed=t.sender.elapsed), t.evidence())
    sent = sorted(e["t_in"] for e in t.events if e["dir"] == "c2s")
    if sent and sent[-1] - sent[0] > rdt_wire.GIVE_UP_BY:
        expect.fail(_("the sender to give up 5 s after its first FIN, no ACK of it having come "
                      "(its last FIN a timeout, at most 0.5 s, before that)"),
                    _("it sent FINs for {seconds:.2f} s (seen by the router: {count} FINs)").format(
                        seconds=sent[-1] - sent[0], count=len(sent)), t.evidence())
    if slow := rdt_wire.timeout_problem(sent):
        expect.fail(_("the sender to send the FIN again each time its timeout, at most 0.5 s, "
                      "runs out, no ACK of it having come"), slow, t.evidence())
    if t.received != b"":
        expect.fail(_("the receiver to write the empty file (the FIN reached it)"),
                    _("no file") if t.received is None else _("{size} bytes").format(size=len(t.received)),
                    t.evidence())
    ended(t, sender_status=1)


@pytest.mark.points(1)
@pytest.mark.rules("R10", "R11")
def test_receiver_gone_at_the_fin(transfers, ctx):
    """The receiver gone at the FIN (ICMP port unreachable): no status 0, give up after 5 s"""
    # The checker's own receiver acknowledges the data, then closes its port when the FIN
    # comes (gone.py): every FIN after it meets ICMP "port unreachable", which a connected
    # socket reports as ConnectionRefusedError. That is no ACK of the FIN (R10: status 0
    # only once one has reached the sender). Nor is it a reason to give up at once, even
    # with status 1: R10 has the sender send the FIN again on each timeout until its ACK
    # comes, R11 makes giving up 5 s after the first FIN the one way out, the give-up check
    # asks for "no sooner than 5 s" when the ACKs are lost silently, and the README's hint
    # says of ConnectionRefusedError "catch it and go on" (a receiver may restart; a stray
    # ICMP may come). So a sender that dies of the exception fails here too. A sender on an
    # unconnected socket (sendto) never hears of the ICMP, and passes as it does with
    # silent losses. Timed on the router's capture (first FIN to last) and, for the exit,
    # by the checker's clock, which sees it late: the bounds lean towards the sender.
    rng = random.Random(f"{ctx.seed}:gone")
    mode = rng.choice(["stop-and-wait", "window"])
    size = rng.randint(1_000, 8_000)
    left = gone.run(transfers, "gone", size, mode,
                    _("a {size}-byte file, {mode}, over a clean link, to the checker's receiver, "
                      "which closes its port when the FIN comes").format(size=size, mode=mode),
                    bound=20)
    t = left.transfer
    t.wire()  # a flood that cut the capture fails the check here
    status = None if t.sender.timed_out else t.sender.returncode
    problem = rdt_wire.gone_problem(left.end, left.fin, status, left.exit_at)
    if problem:
        expect.fail(*problem, t.evidence())
