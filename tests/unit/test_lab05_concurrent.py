"""Lab 5's pure parts: the probe's seeded sizes and pieces, and the checker's judges.

No Docker: the probe (socklab/probes/concurrent_server.py) is imported as a module, the
judges (labs/05-concurrent-server/checker/crowd_probe.py) loaded from their file.
"""

from __future__ import annotations

import importlib.util
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from socklab.probes import concurrent_server as probe

CHECKER = Path(__file__).resolve().parents[2] / "labs" / "05-concurrent-server" / "checker"
_spec = importlib.util.spec_from_file_location("crowd_probe", CHECKER / "crowd_probe.py")
tools = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tools)


@settings(deadline=None)  # messages of 64 KiB: slow on a loaded machine, not wrong
@given(st.integers(0, 2**31), st.integers(1, 200))
def test_varied_sizes_are_seeded_and_bounded(seed, index):
    size = probe.message_size(seed, index, 0)
    assert size == probe.message_size(seed, index, 0) and 1 <= size <= 65537
    assert len(probe.message(seed, index, 0)) == size
    assert probe.message_size(seed, index, 3000) == 3000


def test_a_crowd_meets_buffer_sizes():
    sizes = {probe.message_size(7, i, 0) for i in range(1, 51)}
    assert sizes & set(probe.BOUNDARIES) and sizes - set(probe.BOUNDARIES)


def test_clients_get_different_bytes():
    assert probe.message(1, 1, 100) != probe.message(1, 2, 100)


@given(st.integers(1, 70000), st.integers(1, 5), st.integers())
def test_pieces_start_with_one_byte_and_cover_the_message(size, pieces, seed):
    ends = probe.cut(size, pieces, random.Random(seed))
    assert ends[-1] == size and ends == sorted(set(ends))
    if pieces >= 2 and size >= pieces:
        assert ends[0] == 1 and len(ends) == pieces


def client(state: str, server_closed: bool = False, **more) -> dict:
    return {
        "index": 1,
        "role": "normal",
        "state": state,
        "expected": 16,
        "sent": 16,
        "received": 16,
        "server_closed": server_closed,
        "error": None,
        **more,
    }


def test_still_open():
    tools.still_open(client("connected"), "the silent client")
    with pytest.raises(AssertionError, match="the server closed it"):
        tools.still_open(client("connected", server_closed=True), "the silent client")


def test_kept_until_they_left():
    tools.kept_until_they_left({"clients": [client("closed", True)] * 5}, 2)
    with pytest.raises(AssertionError, match="1 closed by the server while"):
        tools.kept_until_they_left({"clients": [client("closed", True), client("served", True)]}, 2)
    with pytest.raises(AssertionError, match="1 never closed by the server"):
        tools.kept_until_they_left({"clients": [client("closing")]}, 2)
    with pytest.raises(AssertionError):
        tools.kept_until_they_left({}, 2)


def slow(received: int, diff, closed: bool = True, error=None) -> dict:
    return {
        "sent": 100,
        "written": 100,
        "received": received,
        "first_difference": diff,
        "peer_closed": closed,
        "error": error,
    }


def test_slow_echoed():
    tools.slow_echoed(slow(100, None), "x")
    with pytest.raises(AssertionError, match="bytes from 60 on never came"):
        tools.slow_echoed(slow(60, 60), "x")
    with pytest.raises(AssertionError, match="the first wrong one is byte 3"):
        tools.slow_echoed(slow(100, 3), "x")
    with pytest.raises(AssertionError, match="did not close"):
        tools.slow_echoed(slow(100, None, closed=False, error="timed out after 10 s"), "x")


def test_memory_bounded():
    tools.memory_bounded(tools.FLOOD_MEMORY - 1, "python3 (pid 7)", 2**27)
    with pytest.raises(AssertionError, match="grew by 128 MiB while that client sent 128 MiB"):
        tools.memory_bounded(128 * 1024, "python3 (pid 7)", 2**27)


def test_all_served_names_the_clients_left_waiting():
    seen = {"clients": [client("closed", True), client("talking")]}
    with pytest.raises(AssertionError, match="1 of 2 served; 1 still waiting for their echo"):
        tools.all_served(seen, "now")
    tools.all_served({"clients": [client("closing")]}, "now", done="echoed")


def test_released():
    before = {"fds": 5, "zombies": 0, "threads": 2}
    assert tools.released({"fds": 7, "zombies": 0, "threads": 12}, before, 2)
    assert not tools.released({"fds": 8, "zombies": 0, "threads": 2}, before, None)
    assert not tools.released({"fds": 5, "zombies": 1, "threads": 2}, before, None)
    assert not tools.released({"fds": 5, "zombies": 0, "threads": 13}, before, 2)
