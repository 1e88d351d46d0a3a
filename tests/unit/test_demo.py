"""The TCP vs UDP demonstration's pure parts: rows, table, CSV, plot, invariants."""

from __future__ import annotations

import csv
import io
import json
import random
import socket
import subprocess
import sys

import pytest
from rich.console import Console

from socklab import demo, demo_report
from socklab.cli import main
from socklab.errors import SocklabError
from socklab.probes import demo as probe


def tcp(loss=0.1, received=1000, in_order=1000, finished=True, retrans=3, elapsed=0.5):
    return demo.tcp_row(loss, 0, 1000, 30, {"received": received, "in_order": in_order},
                        {"finished": finished, "retransmissions": retrans, "elapsed": elapsed})


def udp(loss=0.1, order=tuple(range(90)), sent=100, duplicates=0, corrupted=0):
    sink = {"unique": len(set(order)), "duplicates": duplicates, "corrupted": corrupted,
            "order": list(order)}
    return demo.udp_row(loss, 0, sent, sink, {"elapsed": 0.05})


def test_parse_losses_takes_percentages():
    assert demo.parse_losses("0,1,5, 30") == (0.0, 0.01, 0.05, 0.30)
    for bad in ("", "abc", "0,100", "-1"):
        with pytest.raises(SocklabError, match="loss"):
            demo.parse_losses(bad)


def test_link_config_is_both_ways():
    assert demo.link_config(0.2, 0) == {"c2s": {"loss": 0.2}, "s2c": {"loss": 0.2}}
    assert demo.link_config(0.2, 15)["s2c"] == {"loss": 0.2, "delay_ms": 15}


def test_in_order_counts_datagrams_after_all_lower_ones():
    assert demo.in_order_count([0, 1, 2, 5]) == 4
    assert demo.in_order_count([0, 2, 1, 3, 3]) == 3  # 1 came late, the second 3 is a copy
    assert demo.in_order_count([]) == 0


def test_rows_compute_percentages_and_goodput():
    row = tcp(received=1000, elapsed=0.5)
    assert row.finished and row.delivered_pct == 100 and row.goodput_kBps == pytest.approx(2.0)
    partial = tcp(received=400, in_order=400, finished=False)
    assert not partial.finished and partial.delivered_pct == 40
    lossy = udp(order=[0, 2, 1, *range(3, 80)])
    assert lossy.delivered_pct == 80 and lossy.in_order_pct == 79 and lossy.retransmissions is None
    assert lossy.delivered_bytes == 80 * demo.DATAGRAM


def test_table_cells_say_what_happened():
    assert demo_report.cells(tcp()) == ["10 %", "TCP", "100.0 %", "100.0 %", "0", "0", "3", "2",
                                           "0.50 s"]
    assert demo_report.cells(tcp(received=10, in_order=10, finished=False))[-1] == \
        "did not finish in 30 s"
    assert demo_report.cells(udp())[2:7] == ["90.0 %", "90.0 %", "0", "0", "—"]
    console = Console(file=io.StringIO(), width=160, record=True)
    console.print(demo_report.table([tcp(), udp()]))
    text = console.export_text()
    assert "TCP" in text and "UDP" in text and "retrans" in text


def test_csv_has_one_line_per_protocol_and_rate():
    rows = list(csv.DictReader(io.StringIO(demo_report.csv_text([tcp(), udp()]))))
    assert [r["protocol"] for r in rows] == ["TCP", "UDP"]
    assert rows[0]["retransmissions"] == "3" and rows[1]["retransmissions"] == ""
    assert rows[1]["delivered_pct"] == "90.00" and rows[0]["finished"] == "true"
    assert list(rows[0]) == demo_report.CSV_FIELDS


def test_invariants_hold_for_what_the_lesson_says():
    assert demo_report.violations([tcp(), udp(), tcp(loss=0), udp(loss=0, order=range(100))]) == []
    unfinished = tcp(received=10, in_order=10, finished=False)
    assert demo_report.violations([unfinished]) == []
    assert "did not finish" in demo_report.violations([unfinished], require_finished=True)[0]


def test_invariants_catch_what_contradicts_it():
    assert "in order" in demo_report.violations([tcp(received=1000, in_order=500)])[0]
    assert "expected 90.0" in demo_report.violations([udp(order=range(50))])[0]
    assert demo_report.violations([udp(loss=0, order=range(99))])  # no loss: every one


def test_plot_writes_a_png(tmp_path):
    rows = [tcp(loss=0), udp(loss=0, order=range(100)), tcp(), udp(),
            tcp(loss=0.3, received=10, in_order=10, finished=False, elapsed=30),
            udp(loss=0.3, order=range(70))]
    csv_path, png = demo_report.save(rows, tmp_path, seed=1)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and csv_path.exists()


def test_the_cli_knows_the_demo(capsys):
    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    assert "--losses" in capsys.readouterr().out
    assert main(["demo", "--losses", "150"]) == 2
    assert "loss" in capsys.readouterr().err


def test_the_probe_finds_the_first_difference():
    expected = random.Random(3).randbytes(5000)
    assert probe.matching_prefix(expected, expected) == 5000
    assert probe.matching_prefix(expected, expected[:10]) == 10
    damaged = expected[:1234] + bytes([expected[1234] ^ 1]) + expected[1235:]
    assert probe.matching_prefix(expected, damaged) == 1234


def test_the_probe_transfers_over_loopback():
    """Sender and receiver as they run in the containers (on this host's loopback)."""
    script = probe.__file__
    common = ["--size", "300000", "--seed", "4", "--timeout", "20"]
    with socket.socket() as s:  # a free port (released before use: good enough here)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    recv = subprocess.Popen([sys.executable, script, "tcp-recv", "--port", str(port), *common],
                            stdout=subprocess.PIPE, text=True)
    assert "listening" in recv.stdout.readline()
    sent = subprocess.run([sys.executable, script, "tcp-send", "--host", "127.0.0.1", "--port",
                           str(port), *common], capture_output=True, text=True, check=True)
    got = json.loads(recv.communicate(timeout=30)[0])
    result = json.loads(sent.stdout)
    assert result["finished"] and result["error"] is None and result["retransmissions"] >= 0
    assert got["received"] == got["in_order"] == 300000 and got["sha256"] == result["sha256"]
