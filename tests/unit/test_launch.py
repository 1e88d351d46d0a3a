"""The sandbox's pieces that need no Docker: the launcher's output cap, the capture's
defusing of terminal escapes, the probe's report of a port taken by student code."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

from socklab.checking.programs import Capture
from socklab.compose import PROBES

FLOOD = "import sys\nfor _ in range(100): sys.stdout.buffer.write(b'x' * 65536)\nsys.exit(3)"


def test_launch_caps_the_output_and_keeps_the_exit_status():
    out = subprocess.run(
        [sys.executable, str(PROBES / "launch.py"), "1000", "--", sys.executable, "-c", FLOOD],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 3  # launch.py became the program
    assert out.stdout.startswith(
        b"x" * 1000 + b"\n[socklab: output cut here: only its first 1000 bytes are kept]\n"
    )
    assert out.stdout.endswith(b"\n[socklab: 6552600 more bytes of output dropped]\n")


def test_launch_runs_the_program_at_nice_19():
    out = subprocess.run(
        [
            sys.executable,
            str(PROBES / "launch.py"),
            "1000",
            "--",
            sys.executable,
            "-c",
            "import os; print(os.nice(0))",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.stdout.strip() == "19"


def test_capture_shows_escape_instead_of_obeying_it():
    read, write = os.pipe()
    with os.fdopen(read, "rb") as stream:
        capture = Capture(stream)
        capture.start()
        os.write(write, b"\x1b[1A\x1b[2KPASSED 13/13")
        os.close(write)
        capture.join()
    assert capture.text() == "\u241b[1A\u241b[2KPASSED 13/13"


def test_probe_server_reports_a_port_in_use():
    with socket.create_server(("", 0)) as held:
        port = held.getsockname()[1]
        out = subprocess.run(
            [
                sys.executable,
                str(PROBES / "probe.py"),
                "tcp-serve",
                "--port",
                str(port),
                "--reply",
                "hi",
                "--timeout",
                "1",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {"error": f"port {port} is in use", "in_use": port}


def serve(port: int, *expect: str) -> subprocess.Popen[str]:
    server = subprocess.Popen(
        [
            sys.executable,
            str(PROBES / "probe.py"),
            "tcp-serve",
            "--port",
            str(port),
            "--reply",
            "REPLY",
            *expect,
            "--timeout",
            "10",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None and '"listening"' in server.stdout.readline()
    return server


def answer_after(port: int, *sends: bytes) -> tuple[bytes, float]:
    """Send each piece without closing; the probe's reply, and how long it took to come."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        for piece in sends:
            sock.sendall(piece)
        start = time.monotonic()
        reply = sock.recv(100)
        return reply, time.monotonic() - start


def free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return probe.getsockname()[1]


def test_probe_server_answers_at_once_when_the_expected_bytes_are_in():
    port = free_port()
    server = serve(port, "--expect", "5")
    reply, waited = answer_after(port, b"hello")
    assert reply == b"REPLY" and waited < 0.4  # not the half-second pause
    assert json.loads(server.communicate(timeout=10)[0])["received"] == "hello"


def test_probe_server_with_expect_still_reads_what_comes_with_it():
    port = free_port()
    server = serve(port, "--expect", "5")
    answer_after(port, b"hello", b"\n")  # one byte too many: the check must see it
    assert json.loads(server.communicate(timeout=10)[0])["received"] == "hello\n"


def test_probe_server_without_expect_waits_for_a_pause():
    port = free_port()
    server = serve(port)
    reply, waited = answer_after(port, b"hello")
    assert reply == b"REPLY" and waited >= 0.4
    server.communicate(timeout=10)
