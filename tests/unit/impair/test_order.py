"""Order keeping raises the mean delay: the model the statistics quote, against the engine."""

import pytest

from socklab.impair.decide import State, decide
from socklab.impair.model import C2S, Delay, Event, Impairment, Match, Profile, Rule
from socklab.impair.order import expected_mean
from socklab.impair.stats import Stats, format_summary

from .build import pkt


def profile(**impair: object) -> Profile:
    return Profile("t", rules=(Rule("default", C2S, Match(), Impairment(**impair)),))


def events(prof: Profile, n: int, gap: float, seed: int = 5) -> list[Event]:
    """Packets ``gap`` s apart through ``decide``, each leaving when it was planned to."""
    state, p, out = State(prof, seed), pkt(), []
    for i in range(n):
        t = 1.0 + i * gap
        fate = decide(p, state, t)[0]
        until = fate.until if isinstance(fate, Delay) else t
        out.append(Event(i + 1, p, (fate,), t, until, 1, until))
    return out


def mean_hold_ms(evs: list[Event]) -> float:
    return sum((e.t_out - e.t_in) for e in evs) * 1000 / len(evs)  # type: ignore[operator]


@pytest.mark.parametrize(
    ("distribution", "gap_ms", "n", "tolerance"),
    [
        ("uniform", 1.0, 20_000, 0.1),
        ("uniform", 0.2, 20_000, 0.1),
        ("normal", 1.0, 20_000, 0.2),
        ("normal", 5.0, 20_000, 0.2),
        # A long tail: one rare draw holds many packets after it, so a run's mean wanders
        # (100,000 packets, seeds 0-7: 28.2-31.4 ms against 29.3 expected).
        ("pareto", 1.0, 100_000, 1.0),
    ],
)
def test_the_expected_mean_is_what_the_engine_plans(
    distribution: str, gap_ms: float, n: int, tolerance: float
) -> None:
    evs = events(profile(delay_ms=20, jitter_ms=5, jitter=distribution), n, gap_ms / 1000, seed=0)
    assert expected_mean(20, 5, distribution, gap_ms) == pytest.approx(mean_hold_ms(evs), abs=tolerance)


def test_the_known_figures() -> None:
    # 20 ± 5 ms at 1,000 packets/s: uniform 21.87, normal 24.51 (a 300,000-packet run of
    # decide.hold_ms gave 21.87 and 24.50); far apart, order keeping costs nothing.
    assert expected_mean(20, 5, "uniform", 1.0) == pytest.approx(21.87, abs=0.01)
    assert expected_mean(20, 5, "normal", 1.0) == pytest.approx(24.51, abs=0.01)
    assert expected_mean(20, 5, "uniform", 1000.0) == pytest.approx(20, abs=0.01)
    assert expected_mean(20, 0, "normal", 1.0) == 20
    assert expected_mean(1, 5, "uniform", 0.5) > expected_mean(1, 5, "uniform", 5.0) > 1
    with pytest.raises(ValueError, match="gap must be positive"):
        expected_mean(20, 5, "uniform", 0)


def test_the_stats_set_the_expected_mean_beside_the_configured_one() -> None:
    prof = profile(delay_ms=20, jitter_ms=5)
    stats = Stats(prof)
    for e in events(prof, 5000, 0.001):
        stats.record(e)
    d = stats.summary()["rules"][0]["delay_ms"]
    assert d["order_kept"]["packets_per_s"] == pytest.approx(1000)
    assert d["order_kept"]["expected_mean"] == pytest.approx(21.87, abs=0.01)
    assert d["planned_mean"] == pytest.approx(d["mean"], abs=0.01)
    assert d["planned_mean"] == pytest.approx(21.87, abs=0.2)
    assert d["drawn_mean"] == pytest.approx(20, abs=0.2)
    text = format_summary(stats.summary())
    assert "(configured 20 ± 5 uniform; 21.87 expected with order kept at 1,000 packets/s)" in text
    assert "order keeping (no packet leaves before the one ahead of it) raised the mean" in text


@pytest.mark.parametrize(
    "impair",
    [
        dict(delay_ms=20, jitter_ms=5, keep_order=False),
        dict(delay_ms=20),
        dict(delay_ms=20, jitter_ms=5, rate_kbit=1000),
    ],
)
def test_no_expected_mean_where_order_keeping_is_not_the_story(impair: dict) -> None:
    prof = profile(**impair)
    stats = Stats(prof)
    for e in events(prof, 200, 0.001):
        stats.record(e)
    d = stats.summary()["rules"][0]["delay_ms"]
    assert "order_kept" not in d and "expected with order kept" not in format_summary(stats.summary())
