"""Scripted rules: the nth or every nth matching packet, per flow or per direction."""

import pytest

from socklab.impair.decide import PASS, State, decide
from socklab.impair.model import (
    ACK,
    C2S,
    FIN,
    S2C,
    SYN,
    TCP,
    UDP,
    Corrupt,
    Delay,
    Deliver,
    Drop,
    Duplicate,
    Impairment,
    Match,
    Profile,
    Rule,
    Script,
)

from .build import pkt


def state(*scripts: Script, rules: tuple[Rule, ...] = ()) -> State:
    return State(Profile("t", rules=rules, scripts=scripts), 5)


def handshake_and_data(sport: int, segments: int) -> list:
    return [
        pkt(C2S, TCP, sport, 5000, 0, SYN),
        pkt(S2C, TCP, sport, 5000, 0, SYN | ACK),
        pkt(C2S, TCP, sport, 5000, 0, ACK),
        *[pkt(C2S, TCP, sport, 5000, 1000, ACK, seq=i * 1000) for i in range(segments)],
        pkt(C2S, TCP, sport, 5000, 0, FIN | ACK),
    ]


def fates(st: State, packets: list, now: float = 0.0) -> list:
    return [decide(p, st, now)[0] for p in packets]


def test_drop_the_third_data_segment_of_each_flow() -> None:
    st = state(Script("third", C2S, Match(proto=TCP), "drop", kind="data", nth=(3,)))
    for sport in (40001, 40002):
        got = fates(st, handshake_and_data(sport, 5))
        dropped = [i for i, f in enumerate(got) if isinstance(f, Drop)]
        assert dropped == [5]  # SYN, SYN-ACK, ACK, data 1, data 2, *data 3*
        assert got[5] == Drop("third", "script")


def test_the_retransmitted_segment_is_a_later_one_and_passes() -> None:
    st = state(Script("third", C2S, Match(proto=TCP), "drop", kind="data", nth=(3,)))
    segs = [pkt(C2S, TCP, 40001, 5000, 1000, ACK, seq=s) for s in (0, 1000, 2000, 2000)]
    assert [type(f) for f in fates(st, segs)] == [Deliver, Deliver, Drop, Deliver]


def test_drop_the_first_syn_ack() -> None:
    st = state(Script("synack", S2C, Match(), "drop", kind="synack", nth=(1,)))
    synack = pkt(S2C, TCP, 40001, 5000, 0, SYN | ACK)
    assert fates(st, [pkt(C2S, TCP, 40001, 5000, 0, SYN), synack, synack]) == [
        PASS[0],
        Drop("synack", "script"),
        PASS[0],
    ]


def test_delay_packet_5_by_300_ms_over_the_rules_own_delay() -> None:
    rule = Rule("default", "both", Match(), Impairment(delay_ms=10))
    st = state(Script("fifth", C2S, Match(), "delay", nth=(5,), per="direction", delay_ms=300), rules=(rule,))
    got = fates(st, [pkt(C2S, UDP, 40000 + i, 6000, 10) for i in range(7)], now=1.0)
    assert [round(f.ms, 6) for f in got] == [10, 10, 10, 10, 300, 10, 10]
    assert got[4] == Delay("fifth", 1.3, 300)


def test_duplicate_every_10th_datagram_keeps_the_rules_delay() -> None:
    rule = Rule("default", "both", Match(), Impairment(delay_ms=10, loss=0.5))
    st = state(Script("tenth", C2S, Match(proto=UDP), "duplicate", every=10), rules=(rule,))
    decisions = [decide(pkt(C2S, UDP, 41000, 6000, 10), st, 0.0) for _ in range(40)]
    dup_at = [i + 1 for i, d in enumerate(decisions) if Duplicate("tenth") in d]
    assert dup_at == [10, 20, 30, 40]
    assert all(isinstance(decisions[i - 1][0], Delay) for i in dup_at)  # never lost


def test_every_counts_per_direction_across_flows() -> None:
    st = state(Script("third", C2S, Match(), "drop", every=3, per="direction"))
    got = fates(st, [pkt(C2S, UDP, 40000 + i, 6000, 10) for i in range(6)])
    assert [isinstance(f, Drop) for f in got] == [False, False, True, False, False, True]


def test_nth_takes_a_list() -> None:
    st = state(Script("some", "both", Match(), "drop", nth=(1, 4)))
    got = fates(st, [pkt(C2S, UDP, 41000, 6000, 10)] * 5)
    assert [isinstance(f, Drop) for f in got] == [True, False, False, True, False]


def test_corrupt_script_flips_the_given_payload_byte_and_bit() -> None:
    st = state(Script("flip", C2S, Match(), "corrupt", nth=(2,), byte=3, bit=6, corrupt_mode="undetected"))
    p = pkt(C2S, UDP, 41000, 6000, 10)
    assert decide(p, st, 0.0) == PASS
    assert decide(p, st, 0.0) == (Deliver("flip"), Corrupt("flip", p.payload_at + 3, 6, False))


def test_the_first_script_that_fires_decides_but_every_script_counts() -> None:
    first = Script("a", C2S, Match(), "drop", nth=(2,))
    second = Script("b", C2S, Match(), "delay", nth=(2, 3), delay_ms=50)
    st = state(first, second)
    got = fates(st, [pkt(C2S, UDP, 41000, 6000, 10)] * 3)
    assert got[1] == Drop("a", "script")
    assert isinstance(got[2], Delay) and got[2].rule == "b"


@pytest.mark.parametrize(
    ("kind", "flags", "length", "expected"),
    [
        ("syn", SYN, 0, True),
        ("syn", SYN | ACK, 0, False),
        ("fin", FIN | ACK, 0, True),
        ("ack", ACK, 0, True),
        ("ack", ACK, 10, False),
        ("data", ACK, 10, True),
        ("data", ACK, 0, False),
    ],
)
def test_packet_kinds(kind: str, flags: int, length: int, expected: bool) -> None:
    script = Script("s", "both", Match(), "drop", kind=kind, nth=(1,))
    assert script.applies(pkt(C2S, TCP, 40000, 5000, length, flags)) is expected
