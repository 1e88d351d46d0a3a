"""The TCP vs UDP demonstration on real containers: it shows what it claims to show.

A short sweep (0, 10 and 20 % loss each way, small data) run twice with one seed: TCP
delivers every byte in order at every rate; UDP's delivered fraction is 1 − loss within
a binomial tolerance; the second run's UDP outcome is the first's, datagram by datagram.

Not 30 %: a retransmission there fails half the time (the segment or its ACK lost), and
the kernel doubles its timeout after each failure, so now and then a run of failures
stalls TCP for minutes (a clean-clone CI run saw it: 90 s, 137560 of 153600 bytes). That
is TCP's behaviour, which `make demo` shows, not a fault to test for.
"""

from __future__ import annotations

import pytest

from socklab import demo, demo_report

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.usefixtures("built_images")]
LOSSES = (0.0, 0.10, 0.20)
SIZE = 150 * demo.DATAGRAM  # 150 datagrams: a tolerance of about ±16 at 20 %


@pytest.fixture(scope="module")
def runs(tmp_path_factory, monkeypatch_module):
    monkeypatch_module.setenv("SOCKLAB_RUNS", str(tmp_path_factory.mktemp("demo-runs")))
    return [demo.sweep(LOSSES, seed=5, size=SIZE, tcp_timeout=120) for _ in range(2)]


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def test_tcp_delivers_everything_in_order_and_udp_tracks_one_minus_loss(runs):
    for rows in runs:
        assert [(r.protocol, r.loss) for r in rows] == [(p, x) for x in LOSSES for p in ("TCP", "UDP")]
        assert demo_report.violations(rows, require_finished=True) == []
        tcp = [r for r in rows if r.protocol == "TCP"]
        assert all(r.delivered_pct == r.in_order_pct == 100 for r in tcp)
        assert tcp[-1].retransmissions > 0  # what it took, counted by the sender's kernel
        udp = [r for r in rows if r.protocol == "UDP"]
        assert udp[0].delivered == udp[0].sent == 150 and udp[-1].delivered < 150


def test_one_seed_gives_the_same_udp_outcome(runs):
    first, second = ([r for r in rows if r.protocol == "UDP"] for rows in runs)
    assert [r.order for r in first] == [r.order for r in second]
    assert [(r.delivered, r.in_order, r.duplicates, r.corrupted) for r in first] == \
        [(r.delivered, r.in_order, r.duplicates, r.corrupted) for r in second]
