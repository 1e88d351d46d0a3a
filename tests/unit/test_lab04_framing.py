"""Lab 4's pure parts: how the probe cuts and compares streams, and the checker's judges.

No Docker: the probe (socklab/probes/message_framing.py) is imported as a module, the
judges (labs/04-message-framing/checker/framing_judge.py) loaded from their file.
"""

from __future__ import annotations

import importlib.util
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from socklab.probes import message_framing as probe

CHECKER = Path(__file__).resolve().parents[2] / "labs" / "04-message-framing" / "checker"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, CHECKER / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


judge = _load("framing_judge")


def frames_of(sizes: list[int]) -> list[bytes]:
    return [probe.frame(b"M", bytes(size)) for size in sizes]


@given(st.lists(st.integers(0, 3000), min_size=1, max_size=12), st.integers(0, 2**32))
def test_headers_split_cuts_each_header_after_each_of_its_bytes(sizes, seed):
    frames = frames_of(sizes)
    ends = probe.cuts(frames, f"headers:{seed}")
    assert ends == sorted(set(ends)) and ends[-1] == sum(map(len, frames))
    start = 0
    for i, f in enumerate(frames):
        assert start + 1 + i % 5 in ends  # the header cut after its byte 1 + i % 5
        inside = [e for e in ends if start + 5 < e < start + len(f)]
        assert len(inside) == (1 if len(f) - 5 > 1 else 0)  # the payload in two
        start += len(f)


def test_every_header_byte_is_a_cut_somewhere():
    ends = probe.cuts(frames_of([10] * 5), "headers:1")  # frames of 15 bytes
    assert {e % 15 for e in ends if e % 15 <= 5} == {0, 1, 2, 3, 4, 5}


@given(st.lists(st.integers(0, 500), min_size=1, max_size=20), st.integers(0, 1000), st.integers(1, 64))
def test_random_split_covers_the_stream_in_bounded_writes(sizes, seed, most):
    frames = frames_of(sizes)
    ends = probe.cuts(frames, f"random:{seed}:{most}")
    steps = [b - a for a, b in zip([0, *ends], ends, strict=False)]
    assert ends[-1] == sum(map(len, frames)) and all(1 <= s <= most for s in steps)


def test_at_split_ends_writes_at_the_offsets_given():
    frames = frames_of([30, 30])
    assert probe.cuts(frames, "at:37,50") == [37, 50, 70]
    assert probe.cuts(frames, "at:0,70,99") == [70]


def test_at_split_waits_its_own_time_after_each_write():
    ends = probe.cuts(frames_of([30, 30]), "at:37@4000,50")
    assert probe.gaps("at:37@4000,50", ends, 10) == [4.0, 0.01, 0.01]
    assert probe.gaps("fixed:1", [1, 2], 3) == [0.003, 0.003]


def test_compare_finds_the_reply_and_part_that_differs():
    sizes = [3, 4]
    expected = probe.frame(b"M", b"cba") + probe.frame(b"M", b"dcba")
    assert probe.compare(expected, sizes, expected)["first_difference"] is None
    wrong = bytearray(expected)
    wrong[8 + 6] ^= 1  # reply 2, payload byte 1
    seen = probe.compare(expected, sizes, bytes(wrong))
    assert (seen["reply"], seen["part"], seen["complete_replies"]) == (1, "payload byte 1", 1)
    short = probe.compare(expected, sizes, expected[:10])
    assert (short["first_difference"], short["part"]) == (10, "header byte 2")
    error = probe.compare(expected, sizes, probe.frame(b"E", b"too long"))
    assert error["got_error"] == "too long" and error["got_header"]["kind"] == "E"


@given(st.text(max_size=50))
def test_the_test_servers_answer_to_text_is_text(words):
    data = words.encode("utf-8", "surrogatepass")
    try:
        data.decode()
    except UnicodeDecodeError:
        return
    assert probe.answer(data) == words[::-1].upper().encode()


def test_the_test_servers_answer_to_other_bytes_is_them_reversed():
    assert probe.answer(b"ab\xff") == b"\xffBA"


@settings(deadline=None)  # texts of 64 KiB: slow on a loaded machine, not wrong
@given(st.integers(0, 70000), st.integers())
def test_text_has_exactly_the_size_in_utf8_bytes(size, seed):
    words = judge.text(random.Random(seed), size)
    assert len(words.encode()) == size
    assert "\n" not in words and not words.startswith("-")


def test_text_has_multibyte_characters():
    words = judge.text(random.Random(1), 400)
    assert len(words) < len(words.encode())


def test_lines_of_standard_output():
    assert judge.lines("") == []
    assert judge.lines("a\n\nb\n") == ["a", "", "b"]
    assert judge.lines("a\r\nb") == ["a", "b"]


def test_printed_wants_exactly_the_replies():
    judge.printed("OLLEH\n\nÉ中\n", ["OLLEH", "", "É中"], "")
    with pytest.raises(AssertionError, match="line 2 is"):
        judge.printed("OLLEH\nx\n", ["OLLEH", ""], "")
    with pytest.raises(AssertionError, match=r"reply 2 .* not printed"):
        judge.printed("OLLEH\n", ["OLLEH", "B"], "")
    with pytest.raises(AssertionError, match="1 more lines"):
        judge.printed("got: OLLEH\nOLLEH\n", ["got: OLLEH"], "")


def sent(*messages: bytes, error=None, sent_error=None) -> dict:
    return {"messages": [m.hex() for m in messages], "error": error, "sent_error": sent_error}


def test_client_sent_wants_the_utf8_bytes_of_every_message():
    judge.client_sent(sent("é".encode(), b""), ["é", ""], "")
    judge.client_sent(sent(b"a", sent_error="bad kind"), ["a", "b"], "")
    with pytest.raises(AssertionError, match="message 1 came as 1 bytes"):
        judge.client_sent(sent("é".encode()[:1]), ["é"], "")
    with pytest.raises(AssertionError, match="received 1 messages"):
        judge.client_sent(sent(b"a"), ["a", "b"], "")
    with pytest.raises(AssertionError, match="closed after 2 bytes"):
        judge.client_sent(sent(b"a", error="the client closed after 2 bytes of a header"), ["a"], "")


def raw(received: bytes, ended: str = "closed") -> dict:
    return {"received": received.hex(), "ended": ended, "error": None}


def test_error_reply_after_the_replies_to_whole_messages():
    too_long = probe.frame(b"E", b"too long")
    reply = probe.frame(b"M", b"cba")
    judge.error_reply(raw(reply + too_long, "reset"), "too long", "x", before=reply)
    with pytest.raises(AssertionError, match="still open"):
        judge.error_reply(raw(too_long, "still open after 5 s"), "too long", "x")
    with pytest.raises(AssertionError, match="kind 'M', length 3"):
        judge.error_reply(raw(reply), "too long", "x")
    with pytest.raises(AssertionError, match="the reply to the whole message first"):
        judge.error_reply(raw(too_long), "too long", "x", before=reply)


def test_closed_quietly_allows_only_the_replies_to_whole_messages():
    reply = probe.frame(b"M", b"cba")
    judge.closed_quietly(raw(reply), "x", before=reply)
    judge.closed_quietly(raw(b"", "reset"), "x")
    with pytest.raises(AssertionError, match="less than a header"):
        judge.closed_quietly(raw(b"\x4d\x00"), "x")


def test_describe_reads_frames_one_after_another():
    text = judge.describe(probe.frame(b"M", b"ab") + probe.frame(b"E", b"bad kind"))
    assert "kind 'M', length 2" in text and "then a frame of kind 'E'" in text


def test_exit_status_and_error_line():
    judge.exited(1, 1, False, "")
    with pytest.raises(AssertionError, match="did not exit"):
        judge.exited(-9, 0, True, "")
    judge.reported_error("Traceback...\nerror: bad kind\n", "bad kind", "")
    with pytest.raises(AssertionError, match="no such line"):
        judge.reported_error("RuntimeError: error: bad kind\n", "bad kind", "")
