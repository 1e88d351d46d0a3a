"""The TCP vs UDP demonstration's pure parts: rows, table, CSV, plot, invariants."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import random
import socket
import subprocess
import sys

import pytest
from rich.console import Console

from socklab import congestion, demo, demo_report
from socklab.cli import main
from socklab.errors import PlatformError, SocklabError
from socklab.probes import demo as probe


def tcp(
    loss=0.1,
    received=1000,
    in_order=1000,
    finished=True,
    retrans=3,
    elapsed=0.5,
    cc="reno",
    mss=1448,
    rtt_us=20000,
):
    return demo.tcp_row(
        loss,
        0,
        1000,
        30,
        {"received": received, "in_order": in_order},
        {
            "finished": finished,
            "retransmissions": retrans,
            "elapsed": elapsed,
            "cc": cc,
            "mss": mss,
            "min_rtt_us": rtt_us,
            "srtt_us": rtt_us + 900,
        },
    )


def udp(loss=0.1, order=tuple(range(90)), sent=100, duplicates=0, corrupted=0):
    sink = {"unique": len(set(order)), "duplicates": duplicates, "corrupted": corrupted, "order": list(order)}
    return demo.udp_row(loss, 0, sent, sink, {"elapsed": 0.05})


def test_parse_losses_takes_percentages():
    assert demo.parse_losses("0,1,5, 30") == (0.0, 0.01, 0.05, 0.30)
    for bad in ("", "abc", "0,100", "-1"):
        with pytest.raises(SocklabError, match="loss"):
            demo.parse_losses(bad)


def test_link_config_loses_on_the_datas_way_or_both():
    assert demo.link_config(0.2, 0, "both") == {"c2s": {"loss": 0.2}, "s2c": {"loss": 0.2}}
    assert demo.link_config(0.2, 15, "both")["s2c"] == {"loss": 0.2, "delay_ms": 15}
    assert demo.link_config(0.2, 15, "data") == {
        "c2s": {"loss": 0.2, "delay_ms": 15},
        "s2c": {"loss": 0.0, "delay_ms": 15},
    }
    assert demo.DEFAULT_LOSS_ON == "data" and demo.link_config(0.2, 0)["s2c"]["loss"] == 0


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


def test_tcp_rows_carry_the_congestion_control_and_the_model():
    row = tcp(loss=0.01)
    assert (row.cc, row.mss, row.rtt_ms) == ("reno", 1448, 20.0)
    assert row.model_kBps == pytest.approx(886.7, abs=0.1)  # 1448 / (20 ms · sqrt(2 · 1 % / 3))
    assert tcp(loss=0).model_kBps is None  # no loss: the model says nothing
    assert udp().model_kBps is None and udp().cc == ""
    unconnected = demo.tcp_row(
        0.1,
        0,
        1000,
        30,
        {"received": 0, "in_order": 0},
        {"finished": False, "retransmissions": 0, "elapsed": 30},
    )
    assert unconnected.model_kBps is None and unconnected.cc == ""


def test_a_transfer_with_another_congestion_control_than_asked_is_a_platform_error(monkeypatch):
    class Link:
        def set(self, **fields):
            self.fields = fields
            return 1

    link = Link()
    sent = {"finished": True, "retransmissions": 0, "elapsed": 0.5, "mss": 1448, "min_rtt_us": 20000}
    replies = {
        "reno": ({"cc": "reno", "received": 1000, "in_order": 1000}, {**sent, "cc": "reno"}),
        "bbr": ({"cc": "reno", "received": 1000, "in_order": 1000}, {**sent, "cc": "bbr"}),
    }
    monkeypatch.setattr(demo, "run_tcp", lambda topo, size, seed, timeout, cc: replies[cc])
    settings = {"loss_on": "data", "delay_ms": 10, "seed": 1, "size": 1000, "tcp_timeout": 30}
    row = demo.measure_tcp("topo", link, 0.05, "reno", **settings)
    assert row.cc == "reno" and link.fields == {"config": demo.link_config(0.05, 10, "data"), "seed": 1}
    with pytest.raises(PlatformError, match="asked for congestion control bbr, and its sockets used bbr, r"):
        demo.measure_tcp("topo", link, 0.05, "bbr", **settings)


def test_table_cells_say_what_happened():
    assert demo_report.cells(tcp(loss=0.01)) == [
        "1 %",
        "TCP",
        "reno",
        "100.0 %",
        "100.0 %",
        "0",
        "0",
        "3",
        "2",
        "887",
        "0.50 s",
    ]
    assert demo_report.cells(tcp(loss=0))[-2] == "—"
    assert demo_report.cells(tcp(received=10, in_order=10, finished=False))[-1] == "did not finish in 30 s"
    assert demo_report.cells(udp())[2:8] == ["—", "90.0 %", "90.0 %", "0", "0", "—"]
    assert demo_report.cells(udp())[-2] == "—"
    console = Console(file=io.StringIO(), width=200, record=True)
    console.print(demo_report.table([tcp(), tcp(cc="bbr", rtt_us=20400), udp()]))
    text = console.export_text()
    assert "TCP" in text and "UDP" in text and "retrans" in text and "model" in text
    assert "congestion control reno, bbr" in text and "client→server only" in text
    assert (
        demo_report.model_inputs([tcp(), tcp(cc="bbr", rtt_us=20400), udp()])
        == "MSS 1448 B, RTT 20.0–20.4 ms"
    )
    assert demo_report.model_inputs([tcp(), udp()]) == "MSS 1448 B, RTT 20.0 ms"


def test_csv_has_one_line_per_protocol_congestion_control_and_rate():
    rows = list(
        csv.DictReader(
            io.StringIO(
                demo_report.csv_text(
                    [tcp(loss=0.01), tcp(loss=0.01, cc="bbr"), udp(loss=0.01, order=range(99))]
                )
            )
        )
    )
    assert [(r["protocol"], r["cc"]) for r in rows] == [("TCP", "reno"), ("TCP", "bbr"), ("UDP", "")]
    assert rows[0]["retransmissions"] == "3" and rows[2]["retransmissions"] == ""
    assert rows[2]["delivered_pct"] == "99.00" and rows[0]["finished"] == "true"
    assert (rows[0]["mss"], rows[0]["rtt_ms"], rows[0]["model_kBps"]) == ("1448", "20.00", "886.7")
    assert (rows[2]["mss"], rows[2]["rtt_ms"], rows[2]["model_kBps"]) == ("", "", "")
    assert rows[0]["loss_on"] == "data" and rows[0]["loss_pct"] == "1"
    assert list(rows[0]) == demo_report.CSV_FIELDS
    assert demo_report.CSV_FIELDS[3:5] == ["protocol", "cc"]
    no_loss = next(csv.DictReader(io.StringIO(demo_report.csv_text([tcp(loss=0)]))))
    assert no_loss["model_kBps"] == ""


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
    rows = [
        tcp(loss=0),
        udp(loss=0, order=range(100)),
        tcp(),
        udp(),
        tcp(loss=0.3, received=10, in_order=10, finished=False, elapsed=30),
        udp(loss=0.3, order=range(70)),
    ]
    csv_path, png = demo_report.save(rows, tmp_path, seed=1)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and csv_path.exists()


def test_the_plot_draws_each_congestion_control_and_the_model(tmp_path):
    rows = [
        tcp(loss=0),
        tcp(loss=0, cc="bbr"),
        udp(loss=0, order=range(100)),
        tcp(loss=0.01),
        tcp(loss=0.01, cc="bbr", rtt_us=22000),
        udp(loss=0.01, order=range(99)),
        tcp(loss=0.04),
        tcp(loss=0.04, cc="bbr"),
        udp(loss=0.04, order=range(96)),
    ]
    assert [label for label, *_ in demo_report.series(rows)] == ["TCP reno", "TCP bbr", "UDP"]
    x, y = demo_report.model_line(rows)
    assert x == [1, 4]  # none at 0 %
    assert y[0] == pytest.approx((886.7 + 886.7 * 20 / 22) / 2, abs=0.1)  # the mean of both RTTs'
    assert y[1] == pytest.approx(886.7 / 2, abs=0.1)
    demo_report.plot(rows, tmp_path / "plot.png", seed=1)
    assert (tmp_path / "plot.png").stat().st_size > 10_000


def test_the_cli_knows_the_demo(capsys):
    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    out = capsys.readouterr().out
    assert "--losses" in out and "--cc" in out and "--cc-list" in out and "--loss-on" in out
    assert main(["demo", "--losses", "150"]) == 2
    assert "loss" in capsys.readouterr().err
    assert main(["demo", "--cc", "reno;bbr"]) == 2
    assert "--cc takes congestion control names" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["demo", "--loss-on", "acks"])


def test_an_unusable_congestion_control_stops_the_demo_before_any_transfer(monkeypatch, capsys):
    """The CLI's answer to a kernel without the algorithm: the fix, exit 2, no traceback."""
    kernel = {"default": "bbr", "allowed": ["reno", "bbr"], "available": ["reno", "bbr", "cubic"]}
    ran = []

    @contextlib.contextmanager
    def lab(seed, log):
        yield "topo", "link"

    monkeypatch.setattr(demo, "lab", lab)
    monkeypatch.setattr(demo, "kernel", lambda topo: congestion.Kernel.from_probe(kernel))
    monkeypatch.setattr(demo, "measure", lambda *a, **k: ran.append(a) or [])
    assert main(["demo", "--cc", "reno,cubic"]) == 2
    captured = capsys.readouterr()
    assert "socklab: error: congestion control 'cubic' is loaded in this kernel" in captured.err
    assert "any socket may choose reno, bbr" in captured.out and ran == []


def test_the_probe_finds_the_first_difference():
    expected = random.Random(3).randbytes(5000)
    assert probe.matching_prefix(expected, expected) == 5000
    assert probe.matching_prefix(expected, expected[:10]) == 10
    damaged = expected[:1234] + bytes([expected[1234] ^ 1]) + expected[1235:]
    assert probe.matching_prefix(expected, damaged) == 1234


def test_the_probe_transfers_over_loopback():
    """Sender and receiver as they run in the containers (on this host's loopback)."""
    script = probe.__file__
    common = ["--size", "300000", "--seed", "4", "--timeout", "20", "--cc", "reno"]
    with socket.socket() as s:  # a free port (released before use: good enough here)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    recv = subprocess.Popen(
        [sys.executable, script, "tcp-recv", "--port", str(port), *common], stdout=subprocess.PIPE, text=True
    )
    assert "listening" in recv.stdout.readline()
    sent = subprocess.run(
        [sys.executable, script, "tcp-send", "--host", "127.0.0.1", "--port", str(port), *common],
        capture_output=True,
        text=True,
        check=True,
    )
    got = json.loads(recv.communicate(timeout=30)[0])
    result = json.loads(sent.stdout)
    assert result["finished"] and result["error"] is None and result["retransmissions"] >= 0
    assert got["received"] == got["in_order"] == 300000 and got["sha256"] == result["sha256"]
    assert result["cc"] == got["cc"] == "reno"  # set on both sockets (the listener passes it on)
    assert result["mss"] > 0 and 0 < result["min_rtt_us"] <= result["srtt_us"] + 1000


def test_the_probe_reports_the_kernels_congestion_controls():
    out = subprocess.run(
        [sys.executable, probe.__file__, "cc-info"], capture_output=True, text=True, check=True
    )
    kernel = congestion.Kernel.from_probe(json.loads(out.stdout))
    assert "reno" in kernel.allowed and set(kernel.allowed) <= set(kernel.available)
    assert kernel.default in kernel.available
