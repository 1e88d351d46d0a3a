"""Loss: Bernoulli within its 99% interval; Gilbert-Elliott against theory and netem's order."""

import math

import pytest

from socklab.impair.decide import State, decide
from socklab.impair.model import Drop, GilbertElliott, Impairment, Match, Profile, Rule
from socklab.impair.stats import wilson

from .build import pkt


def profile(**impair: object) -> Profile:
    return Profile("t", rules=(Rule("default", "both", Match(), Impairment(**impair)),))


def losses(prof: Profile, n: int, seed: int = 1) -> list[bool]:
    state, p = State(prof, seed), pkt()
    return [isinstance(decide(p, state, i * 0.001)[0], Drop) for i in range(n)]


@pytest.mark.parametrize("p", [0.01, 0.1, 0.5])
def test_bernoulli_loss_rate_is_within_the_99_percent_interval(p: float) -> None:
    lost = losses(profile(loss=p), 20_000)
    lo, hi = wilson(sum(lost), len(lost))
    assert lo <= p <= hi


@pytest.mark.parametrize(("p", "expected"), [(0.0, 0), (1.0, 1000)])
def test_no_loss_and_total_loss_are_exact(p: float, expected: int) -> None:
    assert sum(losses(profile(loss=p), 1000)) == expected


def bursts(lost: list[bool]) -> list[int]:
    runs, run = [], 0
    for x in lost:
        if x:
            run += 1
        elif run:
            runs.append(run)
            run = 0
    return runs


def test_gilbert_stationary_loss_and_mean_burst_length_match_theory() -> None:
    ge = GilbertElliott(p=0.05, r=0.25)  # 1-h = 1, 1-k = 0: lose exactly in the bad state
    n = 100_000
    lost = losses(profile(burst=ge), n)
    pi_bad = ge.p / (ge.p + ge.r)
    # The chain is correlated: inflate the binomial variance by (1 + lambda) / (1 - lambda).
    lam = 1 - ge.p - ge.r
    sd = math.sqrt(pi_bad * (1 - pi_bad) / n * (1 + lam) / (1 - lam))
    assert abs(sum(lost) / n - pi_bad) < 3 * sd
    runs = bursts(lost)
    mean_burst, sd_burst = 1 / ge.r, math.sqrt(1 - ge.r) / ge.r  # geometric sojourns
    assert abs(sum(runs) / len(runs) - mean_burst) < 3 * sd_burst / math.sqrt(len(runs))


def test_gilbert_elliott_with_h_and_k_matches_its_stationary_loss() -> None:
    ge = GilbertElliott(p=0.02, r=0.2, bad_loss=0.6, good_loss=0.01)
    expected = (0.02 / 0.22) * 0.6 + (0.2 / 0.22) * 0.01
    assert ge.stationary_loss == pytest.approx(expected)
    lost = losses(profile(burst=ge), 100_000)
    assert sum(lost) / len(lost) == pytest.approx(expected, rel=0.08)


def test_gilbert_elliott_moves_state_then_loses_with_the_old_state_as_netem_does() -> None:
    # p = r = 1: the state flips on every packet; a packet is lost iff it arrived in "bad".
    lost = losses(profile(burst=GilbertElliott(p=1.0, r=1.0)), 8)
    assert lost == [False, True] * 4


def test_gilbert_elliott_can_lose_in_the_good_state() -> None:
    lost = losses(profile(burst=GilbertElliott(p=0.0, r=1.0, good_loss=0.2)), 20_000)
    lo, hi = wilson(sum(lost), len(lost))
    assert lo <= 0.2 <= hi
