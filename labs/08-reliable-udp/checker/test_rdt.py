"""Lab 8 checker: reliable file transfer over UDP, judged by the file that arrived and by
what crossed the router.

Every transfer runs the student's sender in the client container and their receiver in
the server container; the receiver's file is compared byte for byte with what was sent.
The router's engine logs every packet's fate, and for stop-and-wait a capture on the
router shows which packet left the client when, and which ACKs had reached it.
"""

import random

import pytest
import rdt_wire
from transfer import PORT, RECEIVER_EXIT, arrived

from socklab.checking import expect

SLOW_LINK = {"description": "15 ms each way, nothing else", "c2s": {"delay_ms": 15},
             "s2c": {"delay_ms": 15}}
DAMAGING_LINK = {
    "description": "1 ms each way; every 8th data packet and every 8th ACK damaged",
    "c2s": {"delay_ms": 1}, "s2c": {"delay_ms": 1},
    "script": [
        {"name": "damage-data", "direction": "c2s", "proto": "udp", "packet": "data", "every": 8,
         "action": "corrupt", "corrupt_mode": "undetected", "byte": 300},
        {"name": "damage-acks", "direction": "s2c", "proto": "udp", "packet": "data", "every": 8,
         "action": "corrupt", "corrupt_mode": "undetected", "byte": 8},
    ]}
COPYING_LINK = {
    "description": "1 ms each way; a copy of every 4th packet each way",
    "c2s": {"delay_ms": 1}, "s2c": {"delay_ms": 1},
    "script": [
        {"name": "copy-data", "direction": "c2s", "proto": "udp", "packet": "data", "every": 4,
         "action": "duplicate"},
        {"name": "copy-acks", "direction": "s2c", "proto": "udp", "packet": "data", "every": 4,
         "action": "duplicate"},
    ]}


@pytest.mark.points(1)
def test_receiver_binds_port(programs, server):
    """The receiver binds UDP port 5000"""
    programs.start("receiver", ["/scratch/bind.received"])
    programs.wait_ready("receiver", timeout=30)
    expect.listening(server, PORT, "udp")


@pytest.mark.points(2)
def test_clean_link(transfers):
    """A 20 KiB file over a clean link arrives whole; then the receiver exits by itself"""
    t = transfers.run("clean", 20 * 1024, "stop-and-wait",
                      "a 20480-byte file (exactly 20 payloads), stop-and-wait, over a clean link",
                      bound=30, link={"profile": "clean"})
    arrived(t)
    if not t.receiver_exited:
        expect.fail(f"the receiver to exit by itself within {RECEIVER_EXIT:g} s of the sender, "
                    "once the transfer is done", "it was still running", t.evidence())


@pytest.mark.points(1)
def test_empty_file(transfers):
    """An empty file arrives as an empty file (window mode, clean link)"""
    arrived(transfers.run("empty", 0, "window", "an empty file, window mode, over a clean link",
                          bound=30, link={"profile": "clean"}))


@pytest.mark.points(4)
def test_stop_and_wait_impaired(stop_and_wait):
    """Stop-and-wait: about 100 KB through loss, copies, reordering and damage arrive whole"""
    arrived(stop_and_wait)


@pytest.mark.points(3)
def test_stop_and_wait_one_in_flight(stop_and_wait, ctx):
    """Stop-and-wait: never a packet sent before the previous one was acknowledged"""
    t = stop_and_wait
    flight = rdt_wire.in_flight(t.datagrams, ctx.addresses["client"])
    packets = -(-len(t.data) // rdt_wire.MAX_PAYLOAD)  # and the FIN, numbered `packets`
    evidence = f"{t.evidence()}\n(the capture: {flight.sent} data and FIN packets from the " \
               f"client, {flight.foreign} other datagrams)"
    if flight.excess:
        expect.fail("at most one packet in flight: packet n leaves the client only after an "
                    "intact ACK asking for n (ACK n: every packet before n arrived) has reached "
                    "it; sending packet n again after a timeout is fine",
                    f"{flight.first_excess}; {flight.excess} packets were sent so, up to "
                    f"{flight.most} in flight at once", evidence)
    wanted = set(range(packets + 1))
    if not wanted <= flight.numbers:
        missing = sorted(wanted - flight.numbers)
        expect.fail(f"the sender to send data packets 0 to {packets - 1} and the FIN {packets}, "
                    "in the lab's format (README: the packets), one at a time",
                    f"{len(missing)} of them never sent (the first: {missing[0]})", evidence)


@pytest.mark.points(3)
def test_window_impaired(transfers, ctx):
    """Window: about 500 KB through loss, copies, reordering and damage arrive whole"""
    size = random.Random(f"{ctx.seed}:window-size").randint(480_000, 540_000)
    arrived(transfers.run("window", size, "window",
                          f"a {size}-byte file, window mode, through the rdt link",
                          bound=90, link={"profile": "rdt"}))


@pytest.mark.points(3)
def test_window_faster(transfers):
    """Window mode is at least twice as fast as stop-and-wait over a link with 15 ms each way"""
    size = 64 * 1024
    times = {}
    for mode in ("stop-and-wait", "window"):
        t = transfers.run(f"speed-{mode}", size, mode,
                          f"a 64 KiB file, {mode}, over a link with 15 ms each way (no loss)",
                          bound=60, link={"config": SLOW_LINK, "name": "slow"})
        arrived(t)
        times[mode] = t.seconds()
    saw, window = times["stop-and-wait"], times["window"]
    if saw is None or window is None or window * 2 > saw:
        expect.fail("window mode at least twice as fast as stop-and-wait (64 packets, 30 ms "
                    "round trips: one packet per round trip against many)",
                    f"stop-and-wait took {saw:.2f} s, window mode {window:.2f} s (from the first "
                    "packet into the router to the last one out)")


@pytest.mark.points(2)
def test_damaged_packets_rejected(transfers, ctx):
    """Damage the UDP checksum cannot see (every 8th data packet and ACK) is caught"""
    arrived(transfers.run("damage", 100 * 1024, "window",
                          "a 100 KiB file, window mode, every 8th data packet and every 8th ACK "
                          "with one bit flipped (the UDP checksum fixed up to match)",
                          bound=60, link={"config": DAMAGING_LINK, "name": "damaging"}))


@pytest.mark.points(1)
def test_duplicates_ignored(transfers):
    """A copy of every 4th packet, both ways: each data packet is written once"""
    arrived(transfers.run("copies", 40 * 1024, "stop-and-wait",
                          "a 40 KiB file, stop-and-wait, with a copy of every 4th data packet "
                          "and every 4th ACK", bound=60,
                          link={"config": COPYING_LINK, "name": "copying"}))
