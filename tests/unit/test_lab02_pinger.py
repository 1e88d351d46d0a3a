"""Lab 2's pure judging logic (labs/02-udp-pinger/checker/pinging.py) and the probe's
seeded datagrams, with no containers."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


pinging = _load("lab02_pinging", ROOT / "labs" / "02-udp-pinger" / "checker" / "pinging.py")
probe = _load("lab02_probe", ROOT / "socklab" / "probes" / "udp_pinger.py")
PORT = pinging.PORT


def request(t_in, *, sport=40000, decision="deliver", ident=0):
    return {
        "id": ident,
        "proto": "udp",
        "dir": "c2s",
        "sport": sport,
        "dport": PORT,
        "t_in": t_in,
        "t_out": None if decision.startswith("drop") else t_in,
        "decision": decision,
    }


def reply(t_in, t_out, *, ident=0):
    return {
        "id": ident,
        "proto": "udp",
        "dir": "s2c",
        "sport": PORT,
        "dport": 40000,
        "t_in": t_in,
        "t_out": t_out,
        "decision": "deliver",
    }


@given(st.integers(0, 2**32))
@settings(max_examples=50, deadline=None)
def test_datagrams_cover_the_buffer_sizes(seed):
    sizes = [len(data) for _, data in probe.awkward(seed)]
    assert 0 in sizes and 65507 in sizes and 8192 in sizes
    assert any(8192 < s < 65507 for s in sizes)  # a server cutting at 8192 loses one
    for group in probe.SIZES:
        assert set(sizes) & set(group)
    assert probe.awkward(seed) == probe.awkward(seed)


def test_without_strays_drops_the_copies_only():
    events = [
        request(0.0, ident=1),
        reply(0.01, 0.02, ident=2),
        request(0.1, ident=3),
        reply(0.3, 0.3, ident=4),
        reply(0.5, 0.5, ident=5),
        reply(1.1, 1.1, ident=6),
    ]
    kept = pinging.without_strays(events, ["reply", "stray", "stray", "reply"])
    assert [e["id"] for e in kept] == [1, 2, 3, 6]
    assert pinging.without_strays(events, []) == events


def test_pause_after_an_answered_ping_is_a_problem():
    pings = [
        pinging.Ping(1, request(0.0), reply(0.02, 0.04)),
        pinging.Ping(2, request(0.05), reply(0.07, 0.09)),
        pinging.Ping(3, request(1.2), reply(1.22, 1.24)),
    ]
    report = pinging.Report({1: 40.0, 2: 40.0, 3: 40.0}, [], None)
    problems = pinging.pause_problems(pings, report)
    assert len(problems) == 1 and "ping 3" in problems[0]
    timed_out = pinging.Report({1: 40.0, 2: None, 3: 40.0}, [], None)
    assert pinging.pause_problems(pings, timed_out) == []  # it waited out its second


def test_one_socket():
    same = [request(0.0), request(1.0)]
    assert pinging.socket_problems(same) == []
    assert "2 source ports" in pinging.socket_problems([request(0.0), request(1.0, sport=40001)])[0]


@pytest.mark.parametrize(
    "text,wall,bad",
    [
        ("PING 1 1700000000.100000", 1700000000.130, False),
        ("PING 1 1700000000.100000", 1700000000.050, False),  # clock granularity
        ("PING 1 1700000000.100000", 1700000003.100, True),  # one timestamp for the whole run
        ("PING 1 12345.678", 1700000000.0, True),  # time.monotonic()
        ("PING 1 1700000000", 1700000000.3, True),  # int(time.time()): no fraction
        ("PING 1 1700000000.", 1700000000.3, True),
    ],
)
def test_timestamps(text, wall, bad):
    assert bool(pinging.timestamp_problems([{"text": text, "wall": wall}])) is bad


@pytest.mark.parametrize(
    "local,every",
    [
        ("0.0.0.0:5000", True),
        ("*:5000", True),
        ("[::]:5000", True),
        ("10.0.2.2:5000", False),
        ("127.0.0.1:5000", False),
    ],
)
def test_wildcard(local, every):
    assert pinging.wildcard(local) is every


@given(
    st.lists(st.one_of(st.none(), st.floats(0.1, 900.0)), min_size=1, max_size=20),
    st.lists(st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=30), max_size=5),
)
@settings(deadline=None)
def test_read_output_keeps_every_ping_and_ignores_other_lines(rtts, notes):
    lines = [f"seq={n} timeout" if r is None else f"seq={n} rtt={r:.1f} ms" for n, r in enumerate(rtts, 1)]
    notes = [n for n in notes if not n.strip().startswith(("seq=", "---"))]
    out = "\n".join(notes + lines) + "\n--- summary that is not in the form\n"
    report = pinging.read_output(out, len(rtts))
    assert {s: (r is None) for s, r in report.rtts.items()} == {n: (r is None) for n, r in enumerate(rtts, 1)}
    assert report.problems == [
        "a summary line not in the README's form: '--- summary that is not in the form'"
    ]
