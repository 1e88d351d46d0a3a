"""A flood at the checker is the student's failure: every lab's probes keep bounded data.

Each folder in hostile/ named here is laid over a lab's solution (floods-labN over lab
N's; lab 1's floods-the-probes over labs 4 and 5 as well): a server that answers with a
stream, a body or a line without end, or (labs 2 and 8) a server or sender that floods the
impaired link, whose engine then overflows: that overload is the student's, not a platform
error. Graded for real (only the checks that read what it sends), the run must end
``failed``, not ``error``: the probe kept what the check needed and a margin
(socklab/probes/bounded.py), stopped reading and said so, and no container's memory
limit killed anything. Lab 1's case is hostile/floods-the-probes, in test_sandbox.py.
docs/sandbox.md lists which probes are bounded.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from socklab import lab as labs
from socklab import runner
from socklab.grading.result import LabResult

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.usefixtures("built_images")]
HOSTILE = Path(__file__).parent / "hostile"
DATAGRAMS = ("2", "8")  # labs whose flood is of datagrams through the impaired link
MESSAGE = 20_000  # characters of a check's message at most: rules, evidence, a cut ladder
# memory.events (cgroup v2) or memory.oom_control (v1): each has a line "oom_kill N"
OOM_KILLS = "cat /sys/fs/cgroup/memory.events /sys/fs/cgroup/memory/memory.oom_control 2>/dev/null"


def oom_kills(result: LabResult) -> dict[str, int]:
    """Each lab host's count of OOM kills, read before the teardown."""
    project = json.loads((Path(result.artifacts) / "context.json").read_text())["project"]
    kills = {}
    for service in ("client", "server"):
        out = subprocess.run(
            ["docker", "exec", f"{project}-{service}", "sh", "-c", OOM_KILLS],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        ).stdout
        counts = [int(line.split()[1]) for line in out.splitlines() if line.startswith("oom_kill ")]
        kills[service] = counts[0] if counts else -1  # -1: not readable, a test failure
    return kills


def flooded(number: str, folder: str, select: str) -> tuple[LabResult, dict[str, int]]:
    """Lab ``number``'s solution with hostile/``folder`` laid over it, graded on ``select``."""
    lab = labs.find(number)
    code = labs.lay_over(lab.solution, HOSTILE / folder)
    kills: dict[str, int] = {}
    try:
        result = runner.run(lab, code, select=select, show=lambda r: kills.update(oom_kills(r)))
    finally:
        shutil.rmtree(code)
    return result, kills


def describe(result: LabResult) -> str:
    return "\n".join(
        [
            f"{result.status} {result.score:g}/{result.max_score:g} {result.message}",
            *(f"  {c.status:8} {c.id}: {c.message}" for c in result.checks),
            f"  artifacts: {result.artifacts}",
        ]
    )


@pytest.mark.parametrize(
    ("number", "folder", "select"),
    [
        ("3", "floods-lab3", "test_server_reads_to_eof or test_server_empty_request or test_four_way_close"),
        ("4", "floods-the-probes", "test_one_message or test_rejects_unknown_kind"),
        ("5", "floods-the-probes", "test_echo_one_client or test_slow_reader_gets_every_byte"),
        ("6", "floods-lab6", "test_list or test_unknown_command_and_quit"),
        ("7", "floods-lab7", "test_get_index or test_http_client or test_curl"),
        ("9", "floods-lab9", "test_stream_one_line or test_stream_coalesced_lines"),
        ("8", "floods-lab8", "test_stop_and_wait_one_in_flight or test_packets_on_the_wire"),
        ("2", "floods-lab2", "test_server_echoes_datagrams or test_server_serves_every_client"),
    ],
)
def test_a_flood_is_the_students_failure(number, folder, select):
    """Every selected check ran and failed (none an error, none timed out), in a message of
    bounded size, one at least saying the checker stopped reading; no OOM kill in either lab
    host. Lab 3's four-way close is judged from the router's capture of the flood (kept to
    16 MiB, its ladder cut to 60 lines in the message)."""
    result, kills = flooded(number, folder, select)
    assert result.status == "failed", describe(result)
    assert len(result.checks) >= len(select.split(" or ")), describe(result)
    for check in result.checks:
        assert check.status == "failed", describe(result)
        assert len(check.message) < MESSAGE, describe(result)  # the flood not copied into it
    if number in DATAGRAMS:  # overflowed the router's queue: the student's doing, said so
        assert "flooded the link" in result.message, describe(result)
    else:  # a stream, cut by the probe
        assert any("stopped reading" in c.message for c in result.checks), describe(result)
    if number == "8":  # the checks that judge the capture say why they cannot
        assert any("flooded the link" in c.message for c in result.checks), describe(result)
    assert kills == {"client": 0, "server": 0}, (kills, describe(result))
