"""Lab 9's pure parts (cases.py: what the checks send, how answers are judged) and the
probe's file handling, run on this machine's own Unix sockets (no Docker)."""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
PROBE = ROOT / "socklab/probes/unix.py"
ARG_MAX = 131072  # one environment string (the probe's arguments travel in one)


def load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


cases = load(ROOT / "labs/09-unix-sockets/checker/cases.py", "lab09_cases")


def run_probe(*args: str) -> dict:
    out = subprocess.run(
        [sys.executable, str(PROBE), *args], capture_output=True, text=True, check=True, timeout=30
    )
    return json.loads(out.stdout.splitlines()[-1])


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# --- judging -------------------------------------------------------------------------------

LINES = ["héllo".encode(), b"", b"caf\xe9\r", b"  x  "]


def test_right_answers_are_no_problem():
    received = b"".join(cases.line_answer(line) for line in LINES)
    assert received.startswith(b"6 h\xc3\xa9llo\n0 \n5 caf\xe9\r\n")
    assert cases.lines_problem(received, LINES) is None


@pytest.mark.parametrize(
    "received, words",
    [
        (b"5 h\xc3\xa9llo\n0 \n5 caf\xe9\r\n5   x  \n", "answer 1: expected"),  # characters, not bytes
        (b"6 h\xc3\xa9llo\n0 \n4 caf\xe9\n5   x  \n", "answer 3"),  # \r stripped
        (b"6 h\xc3\xa9llo\n0 \n5 caf\xe9\r\n", "3 answer lines for 4"),
        (b"6 h\xc3\xa9llo\n0 \n5 caf\xe9\r\n5   x  \n3 abc\n", "an extra answer"),  # the unfinished line
    ],
)
def test_wrong_answers_are_named(received, words):
    assert words in cases.lines_problem(received, LINES)


def test_datagram_replies_are_judged_whole():
    messages = [b"", b"two\nlines", bytes(range(256))]
    replies = [cases.dgram_answer(m) for m in messages]
    assert replies[0] == b"0 " and replies[1] == b"9 two\nlines"
    assert cases.replies_problem(replies, messages) is None
    assert "reply 3" in cases.replies_problem([*replies[:2], replies[2][:100]], messages)
    assert "2 reply datagrams for 3" in cases.replies_problem(replies[:2], messages)


def test_a_file_left_alone_is_told_from_one_changed():
    before = {
        "exists": True,
        "kind": "regular file",
        "mode": "0644",
        "uid": 1000,
        "gid": 1000,
        "inode": 7,
        "size": 3,
        "sha256": "a",
    }
    assert cases.unchanged(before, dict(before)) is None
    assert "gone" in cases.unchanged(before, {"exists": False})
    assert "replaced" in cases.unchanged(before, {**before, "inode": 8})
    assert "contents" in cases.unchanged(before, {**before, "sha256": "b"})
    assert "mode" in cases.unchanged(before, {**before, "mode": "0660"})


# --- what is sent --------------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32))
def test_datagrams_sit_at_the_boundaries_and_never_exceed_the_largest(seed):
    messages = cases.boundary_datagrams(seed)
    sizes = {len(m) for m in messages}
    assert {cases.LARGEST, cases.LARGEST - 1} <= sizes and max(sizes) == cases.LARGEST
    assert any(abs(size - 1024) <= 1 for size in sizes) and any(abs(size - 4096) <= 1 for size in sizes)
    assert any(b"\n" in m for m in messages)
    assert any(not is_utf8(m) for m in messages) and any(
        len(m.decode("utf-8", "ignore")) < len(m) for m in messages if is_utf8(m)
    )


def is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32))
def test_split_lines_cut_a_character_pause_over_a_second_and_fit_the_probe(seed):
    lines, cuts, gaps = cases.split_lines(seed)
    data = b"".join(line + b"\n" for line in lines)
    assert any(data[c] & 0xC0 == 0x80 for c in cuts)
    assert len(gaps) == len(cuts) and sum(g > 1 for g in gaps) == 1
    assert max(gaps) >= 2.5  # longer than the 1 or 2 s timeouts programs set
    assert any(abs(len(line) - b) <= 1 for line in lines for b in (8192, 65536))
    assert any(len(line) >= cases.LONGEST_LINE - 1 for line in lines)
    assert all(b"\n" not in line and len(line) <= cases.LONGEST_LINE for line in lines)
    specs = [line.spec if isinstance(line, cases.Generated) else b64(line) for line in lines]
    assert len(json.dumps(specs)) + 2000 < ARG_MAX


def test_the_probe_generates_the_long_line_the_checker_expects():
    unix = load(PROBE, "lab09_probe")
    line = cases.Generated(100_000, 42)
    assert unix.line_bytes(line.spec) == bytes(line) and len(line) == 100_000
    assert b"\n" not in line and unix.line_bytes(b64(b"\xe9")) == b"\xe9"


# --- the probe, on this machine's Unix sockets --------------------------------------------


def test_planted_files_are_described_and_cleared(tmp_path):
    path = str(tmp_path / "s.sock")
    regular = run_probe("plant", "--path", path, "--kind", "regular", "--content", b64(b"\xe9t\xe9"))
    assert regular["file"]["kind"] == "regular file" and regular["file"]["size"] == 3
    link = run_probe("plant", "--path", path, "--kind", "symlink")
    assert link["file"]["kind"] == "symbolic link" and link["file"]["target"] == f"{path}.target"
    stale = run_probe("connect", "--path", path, "--type", "stream")  # through the link
    assert "ConnectionRefusedError" in stale["error"]
    assert run_probe("plant", "--path", path, "--kind", "fifo")["file"]["kind"] == "named pipe"
    run_probe("clear", path)
    assert not os.path.lexists(path) and not os.path.lexists(f"{path}.target")


def test_a_held_socket_is_live_until_released(tmp_path):
    path = str(tmp_path / "h.sock")
    holder = subprocess.Popen(
        [sys.executable, str(PROBE), "hold", "--path", path, "--type", "dgram", "--timeout", "20"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert '"listening"' in holder.stdout.readline()
    other = run_probe("connect", "--path", path, "--type", "stream")
    assert not other["connected"] and "Protocol wrong type" in other["error"]
    assert run_probe("release", "--path", path, "--type", "dgram")["sent"]
    out, _ = holder.communicate(timeout=20)
    assert json.loads(out.splitlines()[-1]) == {"released": True}
    assert not os.path.lexists(path)


def test_undeliverable_replies_raise_what_the_rule_names(tmp_path):
    """The probe's "vanished", "stale" and "unbound" senders: FileNotFoundError,
    ConnectionRefusedError, and the address None."""
    path = str(tmp_path / "d.sock")
    seen: list[object] = []
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(path)
    server.settimeout(10)

    def serve() -> None:
        for _ in range(4):
            message, sender = server.recvfrom(cases.LARGEST)
            try:
                server.sendto(cases.dgram_answer(message), sender)
                seen.append("sent")
            except (OSError, TypeError) as exc:
                seen.append(type(exc).__name__ if sender is not None else None)

    thread = threading.Thread(target=serve)
    thread.start()
    plan = [(how, b64(b"x"), how) for how in ("vanished", "stale", "unbound")]
    out = run_probe("dgram", "--path", path, "--plan", json.dumps([*plan, ("a", b64(b"ok"), "")]))
    thread.join(timeout=20)
    server.close()
    assert seen == ["FileNotFoundError", "ConnectionRefusedError", None, "sent"]
    assert out["clients"]["a"]["replies"] == ["2 ok"]


def test_a_jammed_client_makes_a_blocking_server_send_fail(tmp_path):
    """The probe's ``jam``: the server blocks sending answers nobody reads, then its send fails."""
    path = str(tmp_path / "j.sock")
    failure: list[str] = []
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen()

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            try:
                while data := conn.recv(4096):
                    conn.sendall(data)
            except OSError as exc:
                failure.append(type(exc).__name__)

    thread = threading.Thread(target=serve)
    thread.start()
    seen = run_probe("jam", "--path", path, "--timeout", "10")
    thread.join(timeout=20)
    listener.close()
    assert seen["jammed"] and seen["sent"] > 0
    assert failure and failure[0] in ("BrokenPipeError", "ConnectionResetError")
