"""Lab 8's pure judging logic: the seeded link schedules (links.py) and the judgements of
the router's capture and log (rdt_wire.py), with no containers."""

from __future__ import annotations

import importlib.util
import itertools
import sys
import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from socklab.impair import profiles

CHECKER = Path(__file__).resolve().parents[2] / "labs" / "08-reliable-udp" / "checker"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"lab08_{name}", CHECKER / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


links = _load("links")
wire = _load("rdt_wire")
CLIENT, SERVER = "10.0.1.2", "10.0.2.2"


def pkt(kind: bytes, seq: int, payload: bytes = b"", *, length: int | None = None) -> bytes:
    rest = wire.HEADER.pack(0, kind, seq, len(payload) if length is None else length)[4:]
    rest += payload
    return zlib.crc32(rest).to_bytes(4, "big") + rest


class Wire:
    """Builds a capture as the router sees it: each packet in, and (unless lost) out."""

    def __init__(self) -> None:
        self.t = 0.0
        self.grams: list = []

    def _add(self, outgoing: bool, src: str, dst: str, payload: bytes) -> None:
        self.t += 0.001
        self.grams.append(wire.Datagram(self.t, outgoing, src, dst, payload))

    def c2s(self, payload: bytes, lost: bool = False) -> None:
        self._add(False, CLIENT, SERVER, payload)
        if not lost:
            self._add(True, CLIENT, SERVER, payload)

    def s2c(self, payload: bytes, lost: bool = False) -> None:
        self._add(False, SERVER, CLIENT, payload)
        if not lost:
            self._add(True, SERVER, CLIENT, payload)


def stop_and_wait(data: bytes, chunk: int = 1024, lose_fin_acks: int = 0) -> Wire:
    w = Wire()
    pieces = [data[i : i + chunk] for i in range(0, len(data), chunk)]
    for n, piece in enumerate(pieces):
        w.c2s(pkt(b"D", n, piece))
        w.s2c(pkt(b"A", n + 1))
    for i in range(lose_fin_acks + 1):
        w.c2s(pkt(b"F", len(pieces)))
        w.s2c(pkt(b"A", len(pieces) + 1), lost=i < lose_fin_acks)
    return w


# --- the schedules


@given(st.integers(), st.integers(1, 300))
def test_scattered_is_seeded_bounded_and_never_empty(seed, limit):
    import random

    a = links.scattered(random.Random(seed), 0.1, limit)
    assert a == links.scattered(random.Random(seed), 0.1, limit)
    assert a and all(1 <= n <= limit for n in a) and a == sorted(set(a))


@pytest.mark.parametrize("build", [links.damaging, links.copying])
def test_schedules_are_random_sets_never_periods(build):
    configs = [build(seed, 100) for seed in range(20)]
    for config in configs:
        profiles.from_table("test", config, "test")  # the engine accepts it
        for script in config["script"]:
            assert "every" not in script
            assert max(script["nth"]) <= 200
    sets = {tuple(c["script"][0]["nth"]) for c in configs}
    assert len(sets) == 20  # each seed its own schedule
    gaps = {b - a for c in configs for a, b in itertools.pairwise(c["script"][0]["nth"])}
    assert len(gaps) > 5  # no period


def test_fin_link_takes_only_fins():
    config, lost = links.fin_link(7, 5)
    profile = profiles.from_table("test", config, "test")
    assert 3 <= lost <= 4 and all(s.length == 11 for s in profile.scripts)
    assert config["script"][0]["nth"] == list(range(1, lost + 1))
    assert config["script"][1]["nth"] == [lost + 1]
    # the ACKs around the last data packet's (the 5th) copied, from the receiver
    assert config["script"][2]["direction"] == "s2c" and config["script"][2]["nth"] == [4, 5, 6]


def test_longest_silence_and_last_packet_in():
    w = stop_and_wait(b"x" * 3000)
    gap, _ = wire.longest_silence(w.grams, CLIENT)
    assert 0 < gap < 0.01
    assert wire.last_in(w.grams, SERVER) is not None
    assert wire.longest_silence([], CLIENT) == (0.0, 0.0) and wire.last_in([], SERVER) is None


def test_a_receiver_gone_before_a_repeated_fin_is_seen():
    w = stop_and_wait(b"x")
    w.c2s(pkt(b"F", 1))  # a repeat 1 ms later: it went unanswered
    assert wire.ending(w.grams, CLIENT, SERVER, 1).unanswered.startswith("a FIN reached")
    w.s2c(pkt(b"A", 2))
    assert wire.ending(w.grams, CLIENT, SERVER, 1).unanswered == ""


def _go_back_n(damaged: set[int], packets: int, window: int) -> int:
    """Time-outs a go-back-N sender needs over a link that damages the data packets counted
    in ``damaged``: it keeps ``window`` packets in flight (ACKs come back at once; the
    receiver keeps what is ahead of a gap) and on a time-out sends the whole unacknowledged
    window again."""
    have: set[int] = set()
    base = nxt = count = timeouts = 0

    def send(seq: int) -> None:
        nonlocal count
        count += 1
        if count not in damaged:
            have.add(seq)

    while True:
        while nxt < min(base + window, packets):
            send(nxt)
            nxt += 1
            while base in have:
                base += 1
        if base >= packets:
            return timeouts
        timeouts += 1
        assert timeouts < 10_000, "the oldest packet never gets through"
        for seq in range(base, nxt):
            send(seq)
        while base in have:
            base += 1


@settings(max_examples=60, deadline=None)
@given(st.integers(), st.sampled_from([8, 16, 24, 32, 64]))
def test_a_go_back_n_window_always_gets_through(seed, window):
    """The review's case: a window that is a multiple of 8 resent whole, on a link that
    damaged every 8th packet, never moved on. Over the seeded schedule it does."""
    config = links.damaging(seed, 100)
    damaged = {n for s in config["script"] if s["direction"] == "c2s" for n in s["nth"]}
    assert _go_back_n(damaged, 100, window) < 100


def test_the_old_period_stalls_go_back_n():
    with pytest.raises(AssertionError, match="never gets through"):
        _go_back_n(set(range(8, 10**6, 8)), 100, 32)


# --- the capture's judgements


def test_a_correct_transfer_has_no_wire_problems():
    data = bytes(range(256)) * 10  # 2560 bytes: 3 payloads, the last short
    w = stop_and_wait(data)
    assert wire.wire_problems(w.grams, CLIENT, SERVER, data) == []


def test_payloads_of_another_size_break_r3():
    data = bytes(3000)
    w = stop_and_wait(data, chunk=512)
    problems = wire.wire_problems(w.grams, CLIENT, SERVER, data)
    assert problems and "data packet 0 holding 512 bytes" in problems[0]


def test_a_wrong_crc_or_length_breaks_r2():
    data = b"x" * 100
    w = Wire()
    bad = bytearray(pkt(b"D", 0, data))
    bad[0] ^= 1
    w.c2s(bytes(bad))
    w.c2s(pkt(b"D", 0, data, length=99))
    w.s2c(pkt(b"A", 1) + b"!")
    problems = wire.wire_problems(w.grams, CLIENT, SERVER, data)
    assert "crc field" in problems[0] and "length field says 99" in problems[1]
    assert problems[2].startswith("the receiver sent a packet (kind 'A', number 1) whose crc")


def test_an_ack_for_what_never_arrived_breaks_r5():
    data = bytes(3000)
    w = Wire()
    w.c2s(pkt(b"D", 0, data[:1024]), lost=True)
    w.c2s(pkt(b"D", 1, data[1024:2048]))
    w.s2c(pkt(b"A", 2))  # "ACK this packet", not cumulative
    problems = wire.wire_problems(w.grams, CLIENT, SERVER, data)
    assert problems == [
        "the receiver sent ACK 2 (at +0.003 s) when no packet had reached it intact (the first missing: 0)"
    ]


def test_a_copy_left_unanswered_breaks_r5():
    data = bytes(1024)
    w = Wire()
    w.c2s(pkt(b"D", 0, data))
    w.c2s(pkt(b"D", 0, data))
    w.s2c(pkt(b"A", 1))
    assert "left 1 intact data packets unanswered" in wire.wire_problems(w.grams, CLIENT, SERVER, data)[-1]


def test_ending_counts_fins_and_their_acks():
    w = stop_and_wait(bytes(2048), lose_fin_acks=2)
    end = wire.ending(w.grams, CLIENT, SERVER, 2)
    assert (end.fins, end.fins_reached, end.acks_sent, end.acks_lost, end.acks_reached) == (3, 3, 3, 2, 1)
    assert 0 < end.longest_wait < 0.01


def test_a_sender_that_does_not_wait_for_the_fin_ack_is_seen():
    w = stop_and_wait(bytes(2048))
    w.grams = w.grams[:-1]  # the FIN's ACK lost, and the sender gone
    end = wire.ending(w.grams, CLIENT, SERVER, 2)
    assert end.fins == 1 and end.acks_reached == 0


def test_packets_sent_before_the_first_ack():
    events = [{"dir": "c2s", "t_in": 0.001 * i, "t_out": 0.001 * i + 0.015} for i in range(10)]
    events.append({"dir": "s2c", "t_in": 0.02, "t_out": 0.035})
    assert wire.sent_before_first_ack(events) == 10
    assert wire.sent_before_first_ack(events[:1] + events[-1:]) == 1


def test_a_fin_sent_before_the_data_is_acknowledged_is_seen():
    w = Wire()
    w.c2s(pkt(b"D", 0, b"x"))
    w.c2s(pkt(b"F", 1))  # pipelined: ACK 1 has not come back yet
    w.s2c(pkt(b"A", 1))
    w.s2c(pkt(b"A", 2))
    end = wire.ending(w.grams, CLIENT, SERVER, 1)
    assert end.early.startswith("FIN 1 left the client") and end.acks_reached == 1
    assert wire.ending(stop_and_wait(b"x").grams, CLIENT, SERVER, 1).early == ""


def test_a_receiver_that_drops_packets_ahead_of_a_gap_asks_short():
    data = bytes(4096)
    w = Wire()
    w.c2s(pkt(b"D", 0, data[:1024]), lost=True)
    w.c2s(pkt(b"D", 1, data[1024:2048]))
    w.s2c(pkt(b"A", 0))
    w.c2s(pkt(b"D", 0, data[:1024]))
    keeps = list(w.grams)
    w.s2c(pkt(b"A", 1))  # it dropped packet 1: asks for it again
    assert "answered data packet 0" in wire.short_acks(w.grams, SERVER, 4)[0]
    keeps.append(wire.Datagram(1.0, False, SERVER, CLIENT, pkt(b"A", 2)))
    assert wire.short_acks(keeps, SERVER, 4) == []


def test_no_ack_at_all_is_no_pass():
    """A receiver that answers nothing (bound elsewhere, crashed) gives no short ACK to see:
    the check judged that an empty capture passes; it does not."""
    w = Wire()
    w.c2s(pkt(b"D", 0, bytes(1024)))
    w.c2s(pkt(b"D", 1, bytes(1024)))
    assert "answered none of the 2" in wire.short_acks(w.grams, SERVER, 4)[0]
    assert "no intact data packet" in wire.short_acks([], SERVER, 4)[0]


def test_refused_reads_port_unreachable_from_the_client():
    import struct

    ack = pkt(b"A", 3)
    inner = (
        struct.pack(
            "!BBHHHBBH4s4s",
            0x45,
            0,
            20 + 8 + len(ack),
            0,
            0,
            64,
            17,
            0,
            bytes([10, 0, 2, 2]),
            bytes([10, 0, 1, 2]),
        )
        + bytes(8)
        + ack
    )
    icmp = bytes([3, 3, 0, 0, 0, 0, 0, 0]) + inner
    outer = (
        struct.pack(
            "!BBHHHBBH4s4s",
            0x45,
            0,
            20 + len(icmp),
            0,
            0,
            64,
            1,
            0,
            bytes([10, 0, 1, 2]),
            bytes([10, 0, 2, 2]),
        )
        + icmp
    )
    # a pcap (LINKTYPE_RAW would do; the reader wants Linux cooked: SLL, incoming)
    sll = struct.pack("!HHH8sH", 0, 1, 6, bytes(8), 0x0800)
    rec = sll + outer
    pcap = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 113)
    pcap += struct.pack("<IIII", 1, 0, len(rec), len(rec)) + rec
    assert wire.refused(pcap, CLIENT) == [ack]
    assert wire.refused(pcap, SERVER) == []


def _ip(proto: int, src: str, dst: str, body: bytes) -> bytes:
    import socket
    import struct

    return (
        struct.pack(
            "!BBHHHBBH4s4s",
            0x45,
            0,
            20 + len(body),
            0,
            0,
            64,
            proto,
            0,
            socket.inet_aton(src),
            socket.inet_aton(dst),
        )
        + body
    )


def _pcap(records: list[tuple[float, bool, bytes]]) -> bytes:
    """A capture on 'any' (SLL): each record (time, sent on by the router, IP packet)."""
    import struct

    out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 113)
    for t, outgoing, ip in records:
        rec = struct.pack("!HHH8sH", 4 if outgoing else 0, 1, 6, bytes(8), 0x0800) + ip
        out += struct.pack("<IIII", int(t), round(t % 1 * 1e6), len(rec), len(rec)) + rec
    return out


def _udp(src: str, dst: str, payload: bytes) -> bytes:
    return _ip(17, src, dst, bytes(8) + payload)


def _unreachable(src: str, dst: str) -> bytes:
    quoted = _udp(dst, src, pkt(b"F", 3))[:28]  # the FIN's IP and UDP headers
    return _ip(1, src, dst, bytes([3, 3, 0, 0, 0, 0, 0, 0]) + quoted)


def test_gone_reads_the_fins_sent_and_the_port_unreachables_passed_to_the_client():
    pcap = _pcap(
        [
            (10.0, False, _udp(CLIENT, SERVER, pkt(b"D", 2, b"xy"))),  # data, not a FIN
            (10.1, False, _udp(CLIENT, SERVER, pkt(b"F", 3))),
            (10.1, True, _udp(CLIENT, SERVER, pkt(b"F", 3))),  # the same, sent on: counted once
            (10.3, False, _udp(CLIENT, SERVER, pkt(b"F", 4))),  # another number
            (10.4, False, _udp(CLIENT, SERVER, bytes([pkt(b"F", 3)[0] ^ 1]) + pkt(b"F", 3)[1:])),  # bad CRC
            (10.5, False, _udp(CLIENT, SERVER, pkt(b"F", 3))),
            (10.5, False, _unreachable(SERVER, CLIENT)),  # the router got it from the server
            (10.5, True, _unreachable(SERVER, CLIENT)),  # ... and passed it on
            (10.6, True, _ip(1, SERVER, CLIENT, bytes([3, 1]) + bytes(34))),  # host unreachable
        ]
    )
    end = wire.gone(pcap, CLIENT, SERVER, 3)
    assert end.fins == pytest.approx((10.1, 10.5))
    assert end.refusals == pytest.approx((10.5,))


def _fins(every: float, until: float, start: float = 100.0) -> tuple[float, ...]:
    return tuple(start + every * n for n in range(int(until / every) + 1))


@pytest.mark.parametrize(
    ("every", "until", "exit_after"),
    [
        (0.05, 5.0, 5.1),  # the reference: 50 ms timeout, gives up at 5 s
        (0.5, 4.5, 5.0),  # the longest timeout R7 allows
        (0.2, 5.6, 5.7),  # a little late, within the scheduler's room
        (0.15, 5.0, 5.4),  # the checker saw the exit late
    ],
)
def test_a_sender_that_goes_on_and_gives_up_in_time_passes(every, until, exit_after):
    end = wire.Gone(_fins(every, until), (100.06, 100.11, 101.1))
    assert wire.gone_problem(end, 3, 1, 100.0 + exit_after) is None


def test_a_port_unreachable_taken_for_the_ack_fails_r10():
    end = wire.Gone((100.0, 100.15), (100.151,))
    expected, observed = wire.gone_problem(end, 3, 0, 100.2)
    assert "status 0 only once an intact ACK asking for 4" in expected
    assert "status 0, 0.20 s after its first FIN" in observed
    assert "1 ICMP port unreachable reached it" in observed


def test_a_sender_that_dies_of_the_port_unreachable_fails_though_its_status_is_1():
    end = wire.Gone((100.0, 100.15), (100.151,))
    expected, observed = wire.gone_problem(end, 3, 1, 100.3)
    assert "go on sending the FIN after a port unreachable" in expected
    assert "status 1, 0.30 s after its first FIN" in observed


def test_a_sender_that_stops_sending_the_fin_but_waits_fails():
    end = wire.Gone((100.0, 100.15), (100.151,))  # silent after the port unreachable
    expected, observed = wire.gone_problem(end, 3, 1, 105.3)
    assert "again on each timeout" in expected and "last FIN 0.15 s after its first" in observed
    end = wire.Gone((*_fins(0.1, 1.0), *_fins(0.1, 3.5, start=101.5)), ())
    assert wire.gone_problem(end, 3, 1, 105.1) is None  # a pause of one timeout: fine
    end = wire.Gone((*_fins(0.1, 1.0), *_fins(0.1, 3.0, start=102.0)), ())
    assert "no FIN for 1.00 s, from +1.00 s" in wire.gone_problem(end, 3, 1, 105.1)[1]


def test_other_ends_fail_too():
    assert "no FIN 3 left the client" in wire.gone_problem(wire.Gone((), ()), 3, 0, 1.0)[1]
    assert "still running" in wire.gone_problem(wire.Gone((100.0,), ()), 3, None, 120.0)[1]
    assert "status 2" in wire.gone_problem(wire.Gone(_fins(0.1, 5.0), ()), 3, 2, 105.1)[1]
    assert "FINs for 8.00 s" in wire.gone_problem(wire.Gone(_fins(0.1, 8.0), ()), 3, 1, 108.1)[1]


def test_the_timeout_is_the_median_wait_between_two_fins():
    """R7's 0.5 s read from a FIN sent again and again: a few late wake-ups of a loaded
    machine do not count, a sender whose timeout is 0.6 s does."""
    on_time = [0.0, 0.5, 1.0, 1.5, 2.3, 2.8, 3.3, 3.8, 4.6, 5.1]  # two late wake-ups (0.8 s)
    assert wire.timeout_problem(on_time) == ""
    slow = [0.6 * n for n in range(9)]
    assert "every 0.60 s" in wire.timeout_problem(slow)
    assert wire.timeout_problem([0.0, 2.0]) == ""  # too few to tell
