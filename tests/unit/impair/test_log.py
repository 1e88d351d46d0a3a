"""The event log: JSON lines equal to the plain record, and a readable line."""

import io
import json

import pytest

from socklab.impair.log import decision_text, flag_text, human, print_log, record, to_json
from socklab.impair.model import (
    ACK,
    C2S,
    ICMP,
    PROTO_NAMES,
    PSH,
    S2C,
    TCP,
    UDP,
    Corrupt,
    Delay,
    Deliver,
    Drop,
    Duplicate,
    Event,
    Packet,
    Reorder,
)

from .build import pkt

TCP_PKT = pkt(C2S, TCP, 40000, 5000, 100, PSH | ACK, seq=7)
ICMP_PKT = Packet(S2C, ICMP, "10.0.1.10", "10.0.0.10", size=84, length=64, payload_at=20)
EVENTS = [
    Event(1, TCP_PKT, (Delay("default", 1.02, 20.0),), 1.0, 1.0201, 1, 1.02),
    Event(2, pkt(C2S, UDP), (Drop("default", "burst"),), 1.5, None, 2),
    Event(
        3,
        pkt(S2C, UDP),
        (Deliver('a "quoted" rule'), Duplicate("x"), Corrupt("x", 30, 5, False)),
        2.0,
        2.00005,
        1,
        2.0,
    ),
    Event(4, ICMP_PKT, (Reorder("default"),), 3.0, 3.0, 1, 3.0),
    Event(5, TCP_PKT, (Deliver(""),), 4.0, 4.0, 1, 4.0),
    Event(6, pkt(C2S, UDP), (Deliver("x"), Corrupt("x", 30, 2, False, undetectable=True)), 5.0, 5.0, 1, 5.0),
    Event(7, TCP_PKT, (Delay("default", 6.02, 20.0),), 6.0, 6.0201, 1, 6.02, 6.0042),
]


@pytest.mark.parametrize("event", EVENTS)
def test_the_hand_written_json_line_equals_the_record(event: Event) -> None:
    assert json.loads(to_json(event)) == json.loads(json.dumps(record(event)))


def test_a_record_names_the_decision_and_the_rule() -> None:
    rec = record(EVENTS[0])
    assert rec["flags"] == "P." and rec["seq"] == 7 and rec["len"] == 100
    assert (rec["decision"], rec["rule"], rec["held_ms"]) == ("delay 20.0 ms", "default", 20.0)
    rec = record(EVENTS[2])
    assert rec["decision"] == ("pass + duplicate + corrupt payload byte 2 bit 5 (undetected)")
    assert rec["corrupt"] == {"byte": 2, "offset": 30, "bit": 5, "detected": False}
    assert "seq" not in record(EVENTS[1]) and "len" not in record(EVENTS[3])


def test_human_lines() -> None:
    line = human(record(EVENTS[0]))
    assert line.split() == [
        "1.000000",
        ">",
        "1.020100",
        "#1",
        "v1",
        "c2s",
        "tcp",
        "10.0.0.10:40000",
        ">",
        "10.0.1.10:5000",
        "[P.]",
        "seq",
        "7",
        "ack",
        "0",
        "len",
        "100",
        "delay",
        "20.0",
        "ms",
        "[default]",
    ]
    assert "dropped" in human(record(EVENTS[1])) and "drop (burst)" in human(record(EVENTS[1]))
    assert "10.0.1.10 > 10.0.0.10 size 84" in human(record(EVENTS[3]))
    assert "--- config version=2" in human({"event": "config", "t": 5.0, "version": 2})


def test_print_log_renders_a_file() -> None:
    out = io.StringIO()
    print_log([to_json(EVENTS[0]) + "\n", "\n", to_json(EVENTS[1]) + "\n"], out)
    assert len(out.getvalue().splitlines()) == 2


def reference_line(event: Event) -> str:
    """The hand-written line as it was before the fast path: the bytes must not change."""
    p, d = event.packet, event.decision
    t_out = "null" if event.t_out is None else f"{event.t_out:.6f}"
    line = (
        f'{{"t_in":{event.t_in:.6f},"t_out":{t_out},"id":{event.id},'
        f'"version":{event.version},"dir":"{p.direction}",'
        f'"proto":"{PROTO_NAMES.get(p.proto, p.proto)}","src":"{p.src}","sport":{p.sport},'
        f'"dst":"{p.dst}","dport":{p.dport},"size":{p.size}'
    )
    if p.proto == TCP:
        line += f',"seq":{p.seq},"ack":{p.ack},"flags":"{flag_text(p.flags)}","len":{p.length}'
    elif p.proto == UDP:
        line += f',"len":{p.length}'
    text = decision_text(d, p.payload_at)
    line += f',"decision":"{text}","rule":{json.dumps(d[0].rule)}'
    if type(d[0]) is Delay:
        line += f',"held_ms":{round((d[0].until - event.t_in) * 1000, 3)!r}'
    for v in d:
        if isinstance(v, Corrupt):
            line += (
                f',"corrupt":{{"byte":{v.offset - p.payload_at},"offset":{v.offset},'
                f'"bit":{v.bit},"detected":{"true" if v.detected else "false"}}}'
            )
    return line + "}"


def many_events() -> list[Event]:
    """Every fate and modifier, each protocol, odd times and rule names."""
    packets = [
        TCP_PKT,
        ICMP_PKT,
        pkt(S2C, UDP, length=0),
        pkt(C2S, TCP, flags=0x3F, length=0),
        Packet(C2S, 47, "10.0.0.10", "10.0.1.10", size=60, length=40, payload_at=20),
    ]
    fates = [
        Deliver(""),
        Deliver("udp"),
        Drop("default"),
        Drop("x", "rate"),
        Drop("s", "script"),
        Delay("default", 1.0203456, 20.25),
        Delay("default", 1.0, 0.0),
        Delay('ü \\ "q"', 1000.5, 1e-3),
        Reorder("default"),
    ]
    mods = [
        (),
        (Duplicate("default"),),
        (Corrupt("default", 41, 7, True),),
        (Duplicate("y"), Corrupt("y", 28, 0, False)),
    ]
    out = []
    for i, (p, fate, extra) in enumerate((p, f, m) for p in packets for f in fates for m in mods):
        t_in = 1.0 + i * 0.1234567
        t_out = None if isinstance(fate, Drop) else t_in + (i % 7) * 0.0031
        out.append(
            Event(
                i,
                p,
                (fate, *extra) if not isinstance(fate, Drop) else (fate,),
                t_in,
                t_out,
                1 + i % 3,
                None if t_out is None else t_in,
            )
        )
    return out


def test_the_fast_line_is_byte_for_byte_the_reference_one() -> None:
    for event in many_events():
        assert to_json(event) == reference_line(event)
        assert json.loads(to_json(event)) == json.loads(json.dumps(record(event)))


def test_the_wait_in_the_kernels_queue_is_logged_where_it_is_known() -> None:
    assert record(EVENTS[-1])["queued_ms"] == 4.2
    assert "queued_ms" not in record(EVENTS[0])
