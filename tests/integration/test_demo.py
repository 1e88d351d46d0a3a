"""The TCP vs UDP demonstration on real containers: it shows what it claims to show.

A short sweep (0, 10 and 20 % loss, small data) run twice with one seed: TCP delivers
every byte in order at every rate; UDP's delivered fraction is 1 − loss within a binomial
tolerance; the second run's UDP outcome is the first's, datagram by datagram. And TCP
Reno's goodput through the router is the Mathis model's within a factor 2 at 1, 5 and
10 % loss on the data's way.

Not 30 %: a retransmission there fails often (with loss both ways, half the time: the
segment or its ACK lost), and the kernel doubles its timeout after each failure, so now
and then a run of failures stalls TCP for minutes (a clean-clone CI run saw it, both ways:
90 s, 137560 of 153600 bytes). That is TCP's behaviour, which `make demo` shows, not a
fault to test for.
"""

from __future__ import annotations

import pytest

from socklab import congestion, demo, demo_report

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
    assert [(r.delivered, r.in_order, r.duplicates, r.corrupted) for r in first] == [
        (r.delivered, r.in_order, r.duplicates, r.corrupted) for r in second
    ]


# Reno, 10 ms each way, loss on the data's way only (the model's p), one seed. At 1 % a
# 1 MiB transfer sees about 8 losses and is largely slow start (0.9–1.7× the model from
# run to run); 2 MiB settles it. Measured on a 2-core machine, seed 1, 7 runs: 0.95–1.22×
# at 1 %, 0.72–0.82× at 5 %, 0.75–0.82× at 10 % (other seeds at 10 %: down to 0.5×, where
# retransmission timeouts, which the model leaves out, weigh most). About 14 s.
MODEL_SEED = 1
MODEL_SIZES = {0.01: 2 << 20, 0.05: 1 << 20, 0.10: 1 << 20}


@pytest.fixture(scope="module")
def reno(tmp_path_factory, monkeypatch_module):
    monkeypatch_module.setenv("SOCKLAB_RUNS", str(tmp_path_factory.mktemp("demo-model-runs")))
    with demo.lab(MODEL_SEED, print) as (topo, link):
        congestion.check(("reno",), demo.kernel(topo))
        return [
            demo.measure_tcp(
                topo,
                link,
                loss,
                "reno",
                loss_on="data",
                delay_ms=10,
                seed=MODEL_SEED,
                size=size,
                tcp_timeout=60,
            )
            for loss, size in MODEL_SIZES.items()
        ]


def test_reno_goodput_is_the_mathis_models_within_a_factor_2(reno):
    assert [(r.cc, r.finished, r.delivered) for r in reno] == [
        ("reno", True, size) for size in MODEL_SIZES.values()
    ]
    ratios = {f"{r.loss:.0%}": round(r.goodput_kBps / r.model_kBps, 2) for r in reno if r.model_kBps}
    print(f"Reno goodput / Mathis model, seed {MODEL_SEED}: {ratios}")
    assert len(ratios) == 3 and all(0.5 <= x <= 2 for x in ratios.values()), ratios
