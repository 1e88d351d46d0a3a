"""Lab 1's pure judging logic (labs/01-tcp-echo/checker/echoing.py), and the probe's
lock-step conversation against echo servers on this machine's loopback, no containers."""

from __future__ import annotations

import argparse
import importlib.util
import json
import socket
import sys
import threading
from collections.abc import Callable, Iterator
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


echoing = _load("lab01_echoing", ROOT / "labs" / "01-tcp-echo" / "checker" / "echoing.py")
probe = _load("socklab_probe", ROOT / "socklab" / "probes" / "probe.py")


def test_lone_pieces_are_seeded_and_complete():
    pieces = echoing.lone_pieces(3)
    assert pieces == echoing.lone_pieces(3)
    assert [p.data for p in pieces] != [p.data for p in echoing.lone_pieces(4)]
    datas = [p.data for p in pieces]
    for awkward in echoing.AWKWARD:
        assert datas.count(awkward.data) == 1
    halves = [i for i, p in enumerate(pieces) if "cut in two" in p.what]
    assert len(halves) == 1
    first = halves[0]
    assert pieces[first].data + pieces[first + 1].data == echoing.WIDE.encode()
    sizes = {len(d) for d in datas}
    for group in echoing.SIZES:
        assert sizes & set(group)


@given(st.integers(0, 10**9))
@settings(max_examples=200, deadline=None)
def test_client_exchange(seed):
    message, reply, cuts, pauses = echoing.client_exchange(seed)
    data = reply.encode()
    assert len(data) == len(message.encode()) and reply != message
    assert message[0] == message[-1] == " "  # a client that strips is caught every run
    assert any(low <= len(message.encode()) <= high + 4 for low, high in echoing.LENGTHS)
    assert cuts == sorted(cuts) and all(0 < c < len(data) for c in cuts)
    assert cuts[-1] == len(data) - 1 and len(message) < len(data)  # characters < bytes
    with pytest.raises(UnicodeDecodeError):
        data[: cuts[0]].decode()  # the first cut is inside a character
    assert pauses[0] > 1.0 and len(pauses) == len(cuts)


@given(st.integers(0, 10**9))
@settings(max_examples=200, deadline=None)
def test_early_close_reply_is_shorter_and_whole_characters(seed):
    message, reply = echoing.early_close_exchange(seed)
    assert 0 < len(reply.encode()) < len(message.encode())
    assert reply == reply.strip() and reply in message[::-1]


@pytest.mark.parametrize(
    "local,every",
    [
        ("0.0.0.0:5000", True),
        ("*:5000", True),
        ("[::]:5000", True),
        ("[::]%eth0:5000", True),
        ("10.0.2.2:5000", False),
        ("127.0.0.1:5000", False),
        ("[::1]:5000", False),
    ],
)
def test_wildcard(local, every):
    assert echoing.wildcard(local) is every


def test_printed_problem():
    assert echoing.printed_problem("connecting\n世界 ping\n", "世界 ping") is None
    assert echoing.printed_problem("Received: 世界 ping\n", "世界 ping") is not None
    assert "part of the reply" in echoing.printed_problem("世界 pi\n", "世界 ping")
    assert echoing.printed_problem(" 世界 ping \n", " 世界 ping ") is None
    assert echoing.printed_problem("世界 ping\n", " 世界 ping ") is not None  # stripped
    assert echoing.printed_problem("hello\n\n", "") is None  # an empty reply: an empty line
    assert echoing.printed_problem("", "") is not None


def seen_of(pieces, echoed: bytes, *, done=None, closed=False, closed_after=None, error=None):
    """A probe observation: ``done`` pieces sent (all by default), ``echoed`` came back."""
    done = len(pieces) if done is None else done
    sent = b"".join(p.data for p in pieces[:done])
    marks, total = [], 0
    for p in pieces[:done]:
        total += len(p.data)
        marks.append({"size": len(p.data), "echo_s": 0.01 if len(echoed) >= total else None})
    return {
        "error": error,
        "peer_closed": closed,
        "closed_after": closed_after,
        "pieces": marks,
        "sent_hex": sent.hex(),
        "received_hex": echoed.hex(),
    }


def test_echo_problem_names_the_piece():
    pieces = [
        echoing.Piece("'abc'", b"abc"),
        echoing.Piece("a lone space", b" "),
        echoing.Piece("'def'", b"def"),
    ]
    whole = b"abc def"
    assert echoing.echo_problem(pieces, seen_of(pieces, whole)) is None
    stopped = echoing.echo_problem(pieces, seen_of(pieces, b"abc", done=2, closed=True))
    assert "piece 2 of 3, a lone space" in stopped and "closed" in stopped
    changed = echoing.echo_problem(pieces, seen_of(pieces, b"ABC DEF"))
    assert "differs at byte 0" in changed and "piece 1" in changed
    extra = echoing.echo_problem(pieces, seen_of(pieces, whole + b"\n"))
    assert "1 bytes more" in extra


def test_close_problem():
    assert echoing.close_problem({"peer_closed": True, "closed_after": 0.01, "error": None}) is None
    assert "did not close" in echoing.close_problem(
        {"peer_closed": False, "closed_after": None, "error": None}
    )


# The probe's conversation against servers on the loopback: a wrong one is caught every time.


def serve(handle: Callable[[socket.socket], None]) -> Iterator[int]:
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)

    def loop() -> None:
        conn, _ = listener.accept()
        with conn:
            handle(conn)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    thread.join(10)
    listener.close()


def echo_all(conn: socket.socket) -> None:
    while data := conn.recv(65536):
        conn.sendall(data)


def stop_on_blank(conn: socket.socket) -> None:
    while (data := conn.recv(1024)).strip():
        conn.sendall(data)


def converse(port: int, pieces, final_wait: float = 1.0) -> dict:
    args = argparse.Namespace(
        host="127.0.0.1", port=port, wait=2.0, final_wait=final_wait, plan=json.dumps(echoing.plan(pieces))
    )
    return probe.tcp_converse(args)


@pytest.mark.parametrize("seed", range(3))
def test_conversation_with_a_correct_server(seed):
    pieces = echoing.lone_pieces(seed)
    for port in serve(echo_all):
        seen = converse(port, pieces)
        assert echoing.echo_problem(pieces, seen) is None
        assert echoing.close_problem(seen) is None


@pytest.mark.parametrize("seed", range(5))
def test_a_server_that_stops_at_whitespace_is_caught_every_time(seed):
    pieces = echoing.lone_pieces(seed)
    for port in serve(stop_on_blank):
        problem = echoing.echo_problem(pieces, converse(port, pieces, final_wait=0))
        assert problem is not None and "piece" in problem
