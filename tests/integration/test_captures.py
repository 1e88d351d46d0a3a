"""Captures that tell the truth: Wireshark's TCP analysis of the files a run saves flags
only what happened (issue 15). A capture on the router's 'any' interface held each
forwarded segment twice, and tshark called the copies retransmissions.

Lab 3's solution, one clean exchange and one with the client's first two SYNs dropped by
the router, judged by tshark on the host against the engine's log.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from socklab import lab as labs
from socklab import runner

pytestmark = [
    pytest.mark.docker,
    pytest.mark.slow,
    pytest.mark.usefixtures("built_images"),
    pytest.mark.skipif(shutil.which("tshark") is None, reason="needs tshark"),
]

FLAGS = ("tcp.analysis.retransmission", "tcp.analysis.out_of_order", "tcp.analysis.duplicate_ack")


def flagged(path: Path, flag: str) -> list[str]:
    """The TCP flags (0x0002 for a SYN) of the segments tshark marks with ``flag``."""
    out = subprocess.run(
        ["tshark", "-r", str(path), "-Y", flag, "-T", "fields", "-e", "tcp.flags"],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.split("\n")[:-1]


@pytest.fixture(scope="module")
def artifacts() -> Path:
    lab = labs.load(labs.LABS_ROOT / "03-handshake")
    result = runner.run(lab, lab.solution, select="test_three_way_handshake or test_lost_syns", hidden=True)
    assert result.status == "passed", result.message
    return Path(result.artifacts)


@pytest.mark.parametrize("side", ["exchange.pcap", "exchange.server-side.pcap"])
def test_a_clean_exchange_has_nothing_flagged(artifacts, side):
    path = artifacts / side
    assert len(flagged(path, "tcp")) >= 7  # handshake, request, reply, close
    assert {flag: flagged(path, flag) for flag in FLAGS} == {flag: [] for flag in FLAGS}


def test_each_segment_is_captured_once_per_side(artifacts):
    for name in ("exchange.pcap", "exchange.server-side.pcap", "lost-syns.pcap"):
        ids = subprocess.run(
            [
                "tshark",
                "-r",
                str(artifacts / name),
                "-T",
                "fields",
                "-e",
                "ip.id",
                "-e",
                "tcp.seq_raw",
                "-e",
                "tcp.flags",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
        assert len(ids) == len(set(ids)), name


def test_the_dropped_syns_are_the_only_retransmissions(artifacts):
    events = [json.loads(line) for line in (artifacts / "impair-events.jsonl").open()]
    dropped = [e for e in events if e.get("flags") == "S" and e["decision"].startswith("drop")]
    # Lab 3 holds the first SYN some 3.6 s and drops those the kernel sends again meanwhile
    # (one a second on Linux 6.5 and later, after 1 s and 2 s more before): 2 or 3 of them.
    assert len(dropped) >= 2
    client_side = artifacts / "lost-syns.pcap"
    # The router got every SYN on the client's network and sent on only the first, late:
    # each one sent again is a retransmission, and nothing else is flagged.
    assert flagged(client_side, "tcp.analysis.retransmission") == ["0x0002"] * len(dropped)
    assert flagged(client_side, "tcp.analysis.out_of_order") == []
    assert flagged(client_side, "tcp.analysis.duplicate_ack") == []
    server_side = artifacts / "lost-syns.server-side.pcap"
    assert {flag: flagged(server_side, flag) for flag in FLAGS} == {flag: [] for flag in FLAGS}
