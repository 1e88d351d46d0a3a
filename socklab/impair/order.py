"""What order keeping does to the mean delay: the figure the statistics set beside "configured".

With ``keep_order`` a packet never leaves before the one ahead of it, so the realised
delay of packet i is ``R_i = max(D_i, R_{i-1} - gap)`` (``D_i`` the delay drawn): above
the configured mean whenever packets come faster than the jitter spreads them.
"""

from __future__ import annotations

import math
from collections.abc import Callable

_SQRT3_2 = math.sqrt(3) / 2  # decide.hold_ms standardizes its Lomax(3) by this SD
_STEPS = 4000  # grid points: about 2 ms of CPU in the engine, once per stats request
_PARETO_TAIL = 1e-6  # where the pareto grid stops; the rest is added in closed form


def cdf(delay: float, jitter: float, distribution: str) -> Callable[[float], float]:
    """P(hold <= x) for ``decide.hold_ms``'s draws (clipped at 0 as it clips them)."""
    if distribution == "uniform":
        lo, width = delay - jitter, 2 * jitter
        return lambda x: 0.0 if x < 0 else min(max((x - lo) / width, 0.0), 1.0)
    if distribution == "normal":
        scale = jitter * math.sqrt(2)
        return lambda x: 0.0 if x < 0 else 0.5 * (1 + math.erf((x - delay) / scale))
    scale = jitter / _SQRT3_2  # pareto: delay + scale * (L - 1/2), L ~ Lomax(3)
    return lambda x: 0.0 if x < 0 else (1 - (1 + max((x - delay) / scale + 0.5, 0.0)) ** -3)


def _top(delay: float, jitter: float, distribution: str) -> float:
    """Where the grid stops: the distribution's mass above it is negligible (or added)."""
    if distribution == "uniform":
        return delay + jitter
    if distribution == "normal":
        return delay + 6.2 * jitter  # 1 - Phi(6.2) < 3e-10
    return delay + jitter / _SQRT3_2 * (_PARETO_TAIL ** (-1 / 3) - 1.5)


def expected_mean(delay: float, jitter: float, distribution: str, gap: float) -> float:
    """The mean realised delay (ms) of packets ``gap`` ms apart with order kept.

    Analytic, evaluated numerically (no simulation, no randomness): in the steady state
    ``R = max_k (D_{i-k} - k gap)``, so ``P(R <= x) = G(x) = prod_k F(x + k gap)`` with F
    the drawn delay's CDF; ``G(x) = F(x) G(x + gap)`` is filled in on a grid from the
    top down (linear interpolation between grid points) and ``E[R]`` is the integral of
    ``1 - G`` from 0. Pareto's long tail beyond the grid is added in closed form.
    Packets are taken as evenly spaced at the observed mean rate: bursts raise the mean
    further, so the engine also reports the mean it planned for the packets that came.
    """
    if jitter <= 0:
        return max(delay, 0.0)
    if gap <= 0:
        raise ValueError(f"gap must be positive, not {gap}")
    f = cdf(delay, jitter, distribution)
    top = _top(delay, jitter, distribution)
    if top <= 0:
        return 0.0
    h = top / _STEPS
    n, frac = divmod(gap / h, 1.0)
    n = int(n)
    g = [1.0] * (_STEPS + n + 2)  # G = 1 at and above the top
    area = 0.0
    for i in range(_STEPS - 1, -1, -1):
        fx = f(i * h)
        if n:
            g[i] = fx * ((1 - frac) * g[i + n] + frac * g[i + n + 1])
        else:  # the gap is below one grid step: G(x + gap) lies between g[i] and g[i + 1]
            g[i] = fx * frac * g[i + 1] / (1 - fx * (1 - frac))
        area += (1 - g[i]) * h
    if distribution == "pareto":  # 1 - G ~ sum_k (1 - F(x + k gap)) beyond the top
        s, u = jitter / _SQRT3_2, 1 + (top - delay) / (jitter / _SQRT3_2) + 0.5
        area += s * s / (2 * gap * u) + s / (4 * u * u)
    return area
