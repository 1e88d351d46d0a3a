"""Statistics: Wilson intervals, quantiles, configured vs realized, overload kept apart."""

import pytest

from socklab.impair.model import (
    C2S,
    Delay,
    Deliver,
    Drop,
    Duplicate,
    Event,
    Impairment,
    Match,
    Profile,
    Rule,
)
from socklab.impair.stats import Stats, format_summary, most_at_once, quantile, wilson

from .build import pkt


def test_wilson_matches_published_values() -> None:
    lo, hi = wilson(10, 100, z=1.959964)  # the 95% interval for 10/100
    assert (round(lo, 4), round(hi, 4)) == (0.0552, 0.1744)
    lo, hi = wilson(0, 50, z=1.959964)
    assert (lo, round(hi, 4)) == (0.0, 0.0713)
    assert wilson(0, 0) == (0.0, 1.0)
    assert wilson(0, 3000)[0] == 0.0 and wilson(3000, 3000)[1] == 1.0  # exactly, not 2e-19 off


def test_quantiles_of_a_histogram() -> None:
    from collections import Counter

    hist = Counter({1000: 50, 2000: 49, 9000: 1})  # 10 ms, 20 ms, 90 ms
    assert (quantile(hist, 0.5), quantile(hist, 0.99), quantile(hist, 1.0)) == (10, 20, 90)
    assert quantile(Counter(), 0.5) is None


def test_summary_compares_configured_and_realized() -> None:
    prof = Profile("t", rules=(Rule("default", C2S, Match(), Impairment(loss=0.1, delay_ms=10)),))
    stats, p = Stats(prof), pkt()
    for i in range(1000):
        t = float(i)
        if i % 10 == 0:
            stats.record(Event(i, p, (Drop("default"),), t, None, 1))
        else:
            fate = Delay("default", t + 0.010, 10.0)
            extra = (Duplicate("default"),) if i % 100 == 1 else ()
            stats.record(Event(i, p, (fate, *extra), t, t + 0.0102, 1, planned=t + 0.010))
    stats.overload["queue_dropped"] = 3
    summary = stats.summary()
    row = summary["rules"][0]
    assert (row["rule"], row["direction"], row["packets"]) == ("default", C2S, 1000)
    assert row["loss"]["realized"] == 0.1 and row["loss"]["within_ci99"]
    assert row["counts"] == {"delay": 900, "drop_loss": 100, "duplicate": 10}
    assert row["delay_ms"]["p50"] == pytest.approx(10.2)
    assert row["delay_ms"]["configured"] == 10
    assert row["late_ms"]["p99"] == pytest.approx(0.2)
    assert summary["overload"] == {"queue_dropped": 3}
    text = format_summary(summary)
    assert "loss 0.1000" in text and "queue_dropped 3" in text


def test_packets_no_rule_took_are_counted_as_passed() -> None:
    stats = Stats(Profile("clean"))
    stats.record(Event(1, pkt(), (Deliver(""),), 0.0, 0.0001, 1, planned=0.0))
    row = stats.summary()["rules"][0]
    assert (row["rule"], row["counts"], "configured" in row["loss"]) == ("(none)", {"pass": 1}, False)


def test_most_at_once_counts_overlapping_stays() -> None:
    assert most_at_once([]) == 0
    assert most_at_once([(0, 1), (0.5, 2), (1, 3)]) == 2  # one leaves as the next comes
    assert most_at_once([(0, 10), (1, 2), (3, 4), (3.5, 5)]) == 3


def test_a_rate_limit_reports_its_queue_on_the_wire_and_the_worst_lateness() -> None:
    from socklab.impair.decide import State, decide

    prof = Profile("t", rules=(Rule("default", C2S, Match(), Impairment(rate_kbit=1000, rate_queue=4)),))
    state, p, stats = State(prof, 1), pkt(length=1222), Stats(prof)  # 10 ms per packet
    for i in range(40):  # offered twice what the link takes
        t = i * 0.005
        fate = decide(p, state, t)[0]
        if isinstance(fate, Drop):
            stats.record(Event(i, p, (fate,), t, None, 1))
            continue
        late = 0.020 if 20 <= i < 24 else 0.0  # the engine stalled: four releases 20 ms late
        stats.record(Event(i, p, (fate,), t, fate.until + late, 1, fate.until))  # type: ignore[union-attr]
    row = stats.summary()["rules"][0]
    assert row["rate_drops"] > 0
    assert row["late_ms"]["max"] == 20.0
    queue = row["rate_queue"]
    assert queue["configured"] == 4 and queue["complete"]
    assert queue["in_router_max"] == 6  # 4 had the releases been on time: the bookkeeping's
    text = format_summary(stats.summary())
    assert (
        f"rate limit: 4 packets may wait; in the router at once at most "
        f"{queue['in_router_max']} (kernel arrival to release); releases up to 20.00 ms "
        f"late"
    ) in text
