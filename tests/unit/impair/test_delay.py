"""Delay, jitter, reordering, duplication, corruption and the rate limit."""

import itertools
import math

import pytest

from socklab.impair.decide import State, decide, hold_ms, stream
from socklab.impair.model import (
    C2S,
    S2C,
    Corrupt,
    Delay,
    Deliver,
    Drop,
    Duplicate,
    Impairment,
    Match,
    Profile,
    Reorder,
    Rule,
)
from socklab.impair.stats import wilson

from .build import pkt


def profile(**impair: object) -> Profile:
    return Profile("t", rules=(Rule("default", "both", Match(), Impairment(**impair)),))


def run(prof: Profile, n: int, step: float, seed: int = 3, length: int = 100) -> list[tuple]:
    state, p = State(prof, seed), pkt(length=length)
    return [decide(p, state, i * step) for i in range(n)]


def holds(decisions: list[tuple], step: float) -> list[float]:
    return [
        (d[0].until - i * step) * 1000 if isinstance(d[0], Delay) else 0.0 for i, d in enumerate(decisions)
    ]


def test_a_fixed_delay_holds_each_packet_exactly_that_long() -> None:
    decisions = run(profile(delay_ms=25), 100, 0.001)
    assert all(isinstance(d[0], Delay) and d[0].ms == pytest.approx(25) for d in decisions)


def lomax_cdf(x: float) -> float:
    return 1 - (1 + x) ** -3 if x > 0 else 0.0


CDFS = {
    # standardized as hold_ms uses them: value = delay + jitter * z
    "uniform": lambda z: min(max((z + 1) / 2, 0.0), 1.0),
    "normal": lambda z: 0.5 * (1 + math.erf(z / math.sqrt(2))),
    "pareto": lambda z: lomax_cdf(z * math.sqrt(3) / 2 + 0.5),
}


@pytest.mark.parametrize("distribution", sorted(CDFS))
def test_jitter_follows_its_distribution(distribution: str) -> None:
    # Packets 1 s apart: order keeping never binds, the holds are the raw draws.
    n, delay, jitter = 20_000, 100.0, 10.0
    values = sorted(holds(run(profile(delay_ms=delay, jitter_ms=jitter, jitter=distribution), n, 1.0), 1.0))
    # Kolmogorov-Smirnov against the theory; by the DKW inequality 1.63 / sqrt(n) fails
    # a correct sampler with probability 1%.
    cdf = CDFS[distribution]
    ks = max(
        max(abs((i + 1) / n - cdf((v - delay) / jitter)), abs(i / n - cdf((v - delay) / jitter)))
        for i, v in enumerate(values)
    )
    assert ks < 1.63 / math.sqrt(n)
    assert sum(values) / n == pytest.approx(delay, abs=0.3)


def test_hold_is_never_negative() -> None:
    rng = stream(1, "x")
    assert min(hold_ms(1.0, 50.0, "normal", rng) for _ in range(5000)) == 0.0


def inversions(decisions: list[tuple], step: float) -> int:
    leave = [d[0].until if isinstance(d[0], Delay) else i * step for i, d in enumerate(decisions)]
    return sum(1 for a, b in itertools.pairwise(leave) if b < a)


def test_jitter_does_not_reorder_unless_asked() -> None:
    decisions = run(profile(delay_ms=20, jitter_ms=10), 10_000, 0.001)
    assert inversions(decisions, 0.001) == 0
    assert not any(isinstance(d[0], Reorder) for d in decisions)


def test_jitter_reorders_when_keep_order_is_off() -> None:
    decisions = run(profile(delay_ms=20, jitter_ms=10, keep_order=False), 10_000, 0.001)
    assert inversions(decisions, 0.001) > 1000


def test_reorder_rate_is_within_the_99_percent_interval() -> None:
    decisions = run(profile(delay_ms=10, reorder=0.25), 20_000, 0.001)
    k = sum(isinstance(d[0], Reorder) for d in decisions)
    lo, hi = wilson(k, len(decisions))
    assert lo <= 0.25 <= hi


def test_reorder_gap_sends_every_gapth_packet_ahead_as_netem_does() -> None:
    decisions = run(profile(delay_ms=10, reorder=1.0, reorder_gap=5), 30, 0.001)
    assert [i + 1 for i, d in enumerate(decisions) if isinstance(d[0], Reorder)] == [5, 10, 15, 20, 25, 30]


def test_reorder_gap_leaves_at_least_gap_minus_one_delayed_packets_between() -> None:
    decisions = run(profile(delay_ms=10, reorder=0.5, reorder_gap=4), 5000, 0.001)
    at = [i for i, d in enumerate(decisions) if isinstance(d[0], Reorder)]
    assert len(at) > 500
    assert min(b - a for a, b in itertools.pairwise(at)) >= 4


def test_duplicate_rate_is_within_the_99_percent_interval() -> None:
    decisions = run(profile(duplicate=0.05), 20_000, 0.001)
    k = sum(any(isinstance(v, Duplicate) for v in d) for d in decisions)
    lo, hi = wilson(k, len(decisions))
    assert lo <= 0.05 <= hi


@pytest.mark.parametrize("mode", ["detected", "undetected"])
def test_corruption_rate_and_positions(mode: str) -> None:
    decisions = run(profile(corrupt=0.1, corrupt_mode=mode), 20_000, 0.001, length=40)
    flips = [v for d in decisions for v in d if isinstance(v, Corrupt)]
    lo, hi = wilson(len(flips), len(decisions))
    assert lo <= 0.1 <= hi
    p = pkt(length=40)
    assert {f.offset for f in flips} == set(range(p.payload_at, p.payload_at + 40))
    assert {f.bit for f in flips} == set(range(8))
    assert {f.detected for f in flips} == {mode == "detected"}


def test_corruption_skips_packets_without_payload() -> None:
    decisions = run(profile(corrupt=1.0), 100, 0.001, length=0)
    assert decisions == [(Deliver("default"),)] * 100


def test_rate_limit_paces_packets_and_tail_drops_when_the_queue_is_full() -> None:
    state = State(profile(rate_kbit=1000, rate_queue=4), 1)
    p = pkt(length=1222)  # 1250 bytes: 10 ms at 1 Mbit/s
    burst = [decide(p, state, 0.0) for _ in range(6)]
    assert [round(d[0].until, 6) for d in burst[:4]] == [0.01, 0.02, 0.03, 0.04]
    assert burst[4:] == [(Drop("default", "rate"),)] * 2
    later = decide(p, state, 0.025)  # two have left the queue by now
    assert isinstance(later[0], Delay) and later[0].until == pytest.approx(0.05)


@pytest.mark.parametrize(
    ("gone_by", "accepted"),
    [
        (None, 4),  # every release on time: the queue has emptied by 0.045
        (lambda t: 0.02, 2),  # the engine had released only what was planned up to 0.02
    ],
)
def test_rate_limit_queue_counts_what_a_late_engine_still_holds(gone_by, accepted) -> None:
    state = State(profile(rate_kbit=1000, rate_queue=4), 1, gone_by)
    p = pkt(length=1222)  # 10 ms a packet
    assert all(isinstance(decide(p, state, 0.0)[0], Delay) for _ in range(4))  # out by 0.04
    burst = [decide(p, state, 0.045)[0] for _ in range(5)]
    assert sum(not isinstance(d, Drop) for d in burst) == accepted


def test_rate_limit_caps_throughput() -> None:
    state = State(profile(rate_kbit=800, rate_queue=10), 1)
    p = pkt(length=972)  # 1000 bytes: 100 packets/s at 800 kbit/s
    decisions = [decide(p, state, i * 0.005) for i in range(2000)]  # offered: 200 packets/s
    passed = sum(not isinstance(d[0], Drop) for d in decisions)
    assert passed == pytest.approx(1000, abs=12)


def test_directions_are_impaired_independently() -> None:
    prof = Profile("t", rules=(Rule("default", C2S, Match(), Impairment(loss=1.0)),))
    state = State(prof, 1)
    assert isinstance(decide(pkt(C2S), state, 0)[0], Drop)
    assert decide(pkt(S2C), state, 0) == (Deliver(""),)


def test_changing_loss_does_not_change_the_delay_draws() -> None:
    base = run(profile(delay_ms=20, jitter_ms=5, keep_order=False), 2000, 0.001)
    lossy = run(profile(delay_ms=20, jitter_ms=5, keep_order=False, loss=0.3), 2000, 0.001)
    kept = [(a, b) for a, b in zip(base, lossy, strict=True) if not isinstance(b[0], Drop)]
    assert len(kept) < 1600
    assert all(a == b for a, b in kept)
