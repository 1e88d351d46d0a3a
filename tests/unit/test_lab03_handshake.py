"""Lab 3's pure parts: what the checks send (cases.py, drawn from the seed), how a server's
reply is judged, and how the probe cuts a payload (no Docker)."""

from __future__ import annotations

import hashlib
import importlib.util
import random
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]


def load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


cases = load(ROOT / "labs/03-handshake/checker/cases.py", "lab03_cases")
probe = load(ROOT / "socklab/probes/handshake.py", "lab03_probe")


def seen_for(request: bytes, reply: bytes, *, eof=True, early=b"", error=None) -> dict:
    return {
        "request": probe.digest(request),
        "reply": probe.digest(reply),
        "eof": eof,
        "early": early.decode("latin-1"),
        "early_eof": False,
        "early_at": 10 if early else None,
        "error": error,
    }


def test_the_answer_is_the_readme_example():
    assert cases.answer(b"hello") == ("5 2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824\n")


def test_a_right_reply_then_the_fin_is_no_problem():
    request = random.Random(1).randbytes(5000)
    assert cases.problem(seen_for(request, cases.answer(request).encode())) is None


@pytest.mark.parametrize(
    "seen, words",
    [
        (seen_for(b"abc", b"", early=b"3 ba78"), "before the client's FIN"),
        (seen_for(b"abc", cases.answer(b"ab").encode()), "instead of"),
        (seen_for(b"abc", cases.answer(b"abc").encode() + b"\n"), "instead of"),
        (seen_for(b"abc", cases.answer(b"abc").encode(), eof=False), "no FIN"),
        (seen_for(b"abc", b"", error="while reading the reply: ECONNRESET"), "ECONNRESET"),
        (seen_for(b"abc", cases.answer(b"abc").upper().encode()), "instead of"),
    ],
)
def test_every_wrong_handling_is_named(seen, words):
    assert words in cases.problem(seen)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32))
def test_the_slow_request_is_over_64_kib_with_one_pause_over_a_second(seed):
    item = cases.slow_request(seed)
    size = int(item["payload"].split(":")[1])
    assert 65536 < size <= cases.LARGEST_REQUEST
    assert item["cuts"] == sorted(set(item["cuts"])) and all(0 < c < size for c in item["cuts"])
    assert len(item["gaps"]) == len(item["cuts"]) >= 3
    assert sum(g > 1 for g in item["gaps"]) == 1
    assert max(item["gaps"]) > 3  # a server that takes 3 s of silence for the end is caught
    assert cases.slow_request(seed) == item


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32))
def test_request_sizes_sit_on_every_buffer_boundary(seed):
    plan = cases.request_sizes(seed)
    sizes = [int(item["payload"].split(":")[1]) for item in plan if item["payload"][:4] in ("rand", "utf8")]
    for boundary in cases.BOUNDARIES:
        assert any(abs(size - boundary) <= 1 for size in sizes), boundary
    assert cases.LARGEST_REQUEST in sizes  # R2's limit itself
    assert any(
        len(item.get("cuts", [])) > 5 and item["cuts"] == list(range(1, len(item["cuts"]) + 1))
        for item in plan
    ), "a request sent one byte at a time"


def test_the_reset_plan_ends_with_a_client_that_asks_properly():
    plan = cases.resets(7)
    assert [item["end"] for item in plan] == ["rst", "rst", "fin-rst", "fin-rst", "fin"]
    assert plan[3].get("busy")  # its reset waits in the kernel of a server busy elsewhere


@given(st.integers(0, 2**32))
def test_the_reply_to_a_client_is_cut_inside_a_character_and_pauses_over_a_second(seed):
    text, cuts, gaps, hold = cases.reply_for_client(seed, b"request")
    data = text.encode()
    assert text.startswith(cases.answer(b"request")) and not text.endswith("\n")
    assert text.count("\n") >= 2
    assert any(data[c] & 0xC0 == 0x80 for c in cuts), "one cut inside a UTF-8 character"
    assert len(gaps) == len(cuts) and sum(g > 1 for g in gaps) == 1 and hold >= 0.4
    assert max(gaps) > 3  # a client that takes 3 s of silence for the end is caught
    assert b"".join(probe.cut(data, cuts)) == data


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_client_message_is_long_multibyte_text_an_argument_can_hold(seed):
    data = cases.client_message(seed).encode()
    assert 65536 < len(data) <= cases.LARGEST_MESSAGE < 131072  # MAX_ARG_STRLEN
    assert len(data) > len(cases.client_message(seed)) and b"\n" in data
    assert data[:1] in (b" ", b"\t") and data.endswith(b"\n")  # a client that strips is caught


@given(st.binary(max_size=300), st.lists(st.integers(-5, 305), max_size=20))
def test_the_probe_cuts_a_payload_into_pieces_that_join_again(data, cuts):
    pieces = probe.cut(data, cuts)
    assert b"".join(pieces) == data and all(pieces)


@settings(deadline=None)
@given(st.integers(0, 5000), st.integers(0, 100))
def test_utf8_payloads_have_their_exact_size(size, seed):
    data = probe.utf8_text(size, seed)
    assert len(data) == size
    data.decode("utf-8")  # valid text
    assert probe.payload(f"utf8:{size}:{seed}") == data


def test_describing_a_request():
    item = {"payload": "random:70000:1", "cuts": [1, 2, 3], "gaps": [0.1, 1.3, 0.1]}
    assert cases.describe_request(item, 70000) == (
        "a 70000-byte binary request in 4 pieces (one pause of 1.3 s)"
    )
    tiny = {"payload": "utf8:4:1", "cuts": [1, 2, 3], "gaps": [0.005]}
    assert cases.describe_request(tiny, 4) == "a 4-byte UTF-8 text request one byte at a time"
    assert hashlib.sha256(b"").hexdigest() in cases.answer(b"")


@pytest.fixture
def conversation(monkeypatch):
    """The checker's conversation.py (it imports its neighbour pcap.py)."""
    monkeypatch.syspath_prepend(str(ROOT / "labs/03-handshake/checker"))
    return load(ROOT / "labs/03-handshake/checker/conversation.py", "lab03_conversation")


def closing(conversation, *extra):
    """A request, a reply and the four-way close (client ISN 1000, server 5000), then ``extra``."""
    rows = [
        ("c2s", "S", 1000, 0, 0),
        ("s2c", "S.", 5000, 1001, 0),
        ("c2s", ".", 1001, 5001, 0),
        ("c2s", "P.", 1001, 5001, 28),
        ("c2s", "F.", 1029, 5001, 0),
        ("s2c", ".", 5001, 1030, 0),
        ("s2c", "P.", 5001, 1030, 68),
        ("s2c", "F.", 5069, 1030, 0),
        ("c2s", ".", 1030, 5069, 0),
        ("c2s", ".", 1030, 5070, 0),
        *extra,
    ]
    conn = conversation.Connection(("198.19.2.10", 40000), ("198.19.3.10", 5000))
    conn.segments = [
        conversation.Segment(way, i / 100, i / 100 + 0.001, flags, seq, ack, length, b"")
        for i, (way, flags, seq, ack, length) in enumerate(rows)
    ]
    return conn


def test_a_graceful_close_has_no_reset(conversation):
    conn = closing(conversation)
    assert conversation.closed(conn, 1.0) and conversation.resets(conn) == []


def test_a_reset_answering_the_last_ack_counts(conversation):
    """SO_LINGER 0 after shutdown(): the FIN went out, but the socket was gone before the
    client's ACKs came, and they were answered with RSTs (a capture of such a server)."""
    conn = closing(conversation, ("s2c", "R", 5069, 0, 0), ("s2c", "R", 5070, 0, 0))
    assert [s.seq for s in conversation.resets(conn)] == [5069, 5070]


def test_a_reset_answering_a_late_duplicate_does_not_count(conversation):
    conn = closing(conversation, ("c2s", ".", 1030, 5070, 0), ("s2c", "R", 5070, 0, 0))
    assert conversation.resets(conn) == []
    assert conversation.late(conn, conn.segments[-1])


def test_a_ladder_in_a_message_is_cut_to_its_start_and_end(monkeypatch):
    """A flood draws thousands of segments: a message shows SHOWN lines (ladder.txt all)."""
    monkeypatch.syspath_prepend(str(ROOT / "labs/03-handshake/checker"))
    capture = load(ROOT / "labs/03-handshake/checker/capture.py", "lab03_capture")
    short = "\n".join(f"line {i}" for i in range(capture.SHOWN))
    assert capture.shown(short) == short
    cut = capture.shown("\n".join(f"line {i}" for i in range(5000))).splitlines()
    assert len(cut) == capture.SHOWN + 1
    assert cut[0] == "line 0" and cut[-1] == "line 4999" and "4940 more lines" in cut[-11]
