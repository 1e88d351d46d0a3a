"""Configured vs realized, per rule and direction; overload losses kept apart from intended ones."""

from __future__ import annotations

import functools
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from socklab.impair.model import (
    Corrupt,
    Delay,
    Deliver,
    Drop,
    Duplicate,
    Event,
    Impairment,
    Profile,
    Reorder,
)
from socklab.impair.order import expected_mean

Z99 = 2.5758293035489004  # two-sided 99% normal quantile
_BIN = 100  # histogram bins per millisecond: quantiles to 0.01 ms
SPANS = 200_000  # packets of a rate-limited rule whose stay is kept (16 MB at most)


def wilson(k: int, n: int, z: float = Z99) -> tuple[float, float]:
    """Wilson score interval for k successes in n trials (99% by default)."""
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    # At k = 0 (k = n) the bound is exactly 0 (1): rounding left 2e-19, and then a
    # configured loss of 0 seemed outside the interval of a run that lost nothing.
    return (0.0 if k == 0 else max(0.0, centre - half), 1.0 if k == n else min(1.0, centre + half))


def quantile(hist: Counter[int], q: float) -> float | None:
    """The q-quantile (0..1) of a histogram of values in 1/_BIN ms bins, in ms."""
    total = sum(hist.values())
    if total == 0:
        return None
    rank = max(1, math.ceil(q * total))
    seen = 0
    for value in sorted(hist):
        seen += hist[value]
        if seen >= rank:
            return value / _BIN
    raise AssertionError("unreachable: the ranks add up to the total")


_KINDS: dict[type, str] = {
    Deliver: "pass",
    Delay: "delay",
    Reorder: "reorder",
    Duplicate: "duplicate",
    Corrupt: "corrupt",
}


def kind_of(verdict: object) -> str:
    """The name a verdict is counted under."""
    if isinstance(verdict, Drop):
        return f"drop_{verdict.cause}"
    return _KINDS[type(verdict)]


@dataclass
class Row:
    """What one rule (or script) did in one direction."""

    packets: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    hold: Counter[int] = field(default_factory=Counter)  # realized time in the engine
    late: Counter[int] = field(default_factory=Counter)  # realized minus planned release
    sent: int = 0  # packets that left (the others were dropped)
    drawn: float = 0.0  # sum of the delays drawn (ms): what the seed asked for
    planned: float = 0.0  # sum of the planned holds (s): order keeping and the rate included
    first_in: float = math.inf  # arrival of the first and the last packet that left
    last_in: float = -math.inf
    spans: list[tuple[float, float]] | None = None  # (in, out) of each packet: rate limits only


@dataclass
class Stats:
    """Counts every event of one config version; ``overload`` counts what the engine lost
    (the engine passes one counter to every version: overload is for its whole life)."""

    profile: Profile
    rows: dict[tuple[str, str], Row] = field(default_factory=dict)
    overload: Counter[str] = field(default_factory=Counter)
    queued: Counter[int] = field(default_factory=Counter)  # kernel arrival to the engine's read

    def record(self, event: Event) -> None:
        """Count one event (it runs for every packet: ``kind_of`` is inlined)."""
        _id, packet, decision, t_in, t_out, _version, planned, t_read = event
        if t_read is not None:
            self.queued[round((t_read - t_in) * 1000 * _BIN)] += 1
        key = (decision[0].rule, packet.direction)
        row = self.rows.get(key)
        if row is None:
            row = self.rows[key] = Row()
            imp = self.configured(*key)
            if imp is not None and imp.rate_kbit:
                row.spans = []
        row.packets += 1
        counts = row.counts
        for verdict in decision:
            kind = _KINDS.get(type(verdict))
            counts[kind if kind is not None else kind_of(verdict)] += 1
            if kind == "corrupt" and verdict.undetectable:  # type: ignore[union-attr]
                counts["corrupt_undetectable"] += 1
        if t_out is not None:
            row.hold[round((t_out - t_in) * 1000 * _BIN)] += 1
            row.sent += 1
            if t_in < row.first_in:
                row.first_in = t_in
            if t_in > row.last_in:
                row.last_in = t_in
            if row.spans is not None and len(row.spans) < SPANS:
                row.spans.append((t_in, t_out))
            if type(decision[0]) is Delay:
                row.drawn += decision[0].ms  # type: ignore[union-attr]
            if planned is not None:
                row.late[round((t_out - planned) * 1000 * _BIN)] += 1
                row.planned += planned - t_in

    def configured(self, rule: str, direction: str) -> Impairment | None:
        for r in self.profile.rules:
            if r.name == rule and r.direction in (direction, "both"):
                return r.impair
        return None

    def summary(self) -> dict[str, Any]:
        """Plain data (JSON-ready): one entry per rule and direction, and the overload counts."""
        rows = []
        for (rule, direction), row in sorted(self.rows.items()):
            rows.append(_row_summary(rule or "(none)", direction, row, self.configured(rule, direction)))
        return {
            "profile": self.profile.name,
            "rules": rows,
            "overload": dict(self.overload),
            "queued_ms": _queued_summary(self.queued),
        }


def _queued_summary(hist: Counter[int]) -> dict[str, Any]:
    """How long packets waited in the kernel's queue before the engine read them."""
    if not hist:
        return {"available": False, "why": "the kernel gave no NFQA_TIMESTAMP"}
    return {
        "available": True,
        "packets": sum(hist.values()),
        **{f"p{q}": quantile(hist, q / 100) for q in (50, 99)},
        "max": max(hist) / _BIN,
    }


def most_at_once(spans: list[tuple[float, float]]) -> int:
    """The most intervals ``[in, out)`` open at one moment (one leaving as another comes:
    not both)."""
    points = sorted([(t_in, 1) for t_in, _ in spans] + [(t_out, -1) for _, t_out in spans])
    most = now = 0
    for _t, step in points:
        now += step
        most = max(most, now)
    return most


def _queue_summary(spans: list[tuple[float, float]], bound: int) -> dict[str, Any]:
    """The rate limiter's queue as the wire saw it: packets of the rule in the router at
    once, from the kernel's arrival to the actual release (with a delay after the link,
    those on the delay line count too), beside the bound its bookkeeping keeps."""
    return {
        "configured": bound,
        "in_router_max": most_at_once(spans),
        "packets": len(spans),
        "complete": len(spans) < SPANS,
    }


def _rate(k: int, n: int, configured: float | None) -> dict[str, Any]:
    lo, hi = wilson(k, n)
    out: dict[str, Any] = {"count": k, "realized": k / n if n else None, "ci99": [lo, hi]}
    if configured is not None:
        out["configured"] = configured
        out["within_ci99"] = lo <= configured <= hi
    return out


def _row_summary(rule: str, direction: str, row: Row, imp: Impairment | None) -> dict[str, Any]:
    n, c = row.packets, row.counts
    out: dict[str, Any] = {
        "rule": rule,
        "direction": direction,
        "packets": n,
        "counts": dict(sorted(c.items())),
    }
    out["loss"] = _rate(c["drop_loss"] + c["drop_burst"], n, imp.configured_loss if imp else None)
    if imp is not None and imp.rate_kbit:
        out["rate_drops"] = c["drop_rate"]
        out["rate_queue"] = _queue_summary(row.spans or [], imp.rate_queue)
    for kind in ("duplicate", "corrupt", "reorder"):
        configured = getattr(imp, kind) if imp is not None else None
        if c[kind] or configured:
            out[kind] = _rate(c[kind], n, configured)
    if c["corrupt_undetectable"]:
        out["corrupt"]["undetectable"] = c["corrupt_undetectable"]
    out["delay_ms"] = _delay_summary(row, imp)
    out["late_ms"] = {f"p{q}": quantile(row.late, q / 100) for q in (50, 99)}
    out["late_ms"]["max"] = max(row.late) / _BIN if row.late else None
    return out


def _delay_summary(row: Row, imp: Impairment | None) -> dict[str, Any]:
    """Quantiles and means of the time in the engine, beside what was configured and, under
    order keeping, the mean to expect (``order.expected_mean``) and the one planned."""
    delay: dict[str, Any] = {f"p{q}": quantile(row.hold, q / 100) for q in (50, 95, 99)}
    delay["mean"] = round(sum(v * c for v, c in row.hold.items()) / _BIN / row.sent, 3) if row.sent else None
    if imp is None:
        return delay
    delay.update(configured=imp.delay_ms, jitter_ms=imp.jitter_ms, jitter=imp.jitter)
    if row.sent:
        delay.update(
            drawn_mean=round(row.drawn / row.sent, 3), planned_mean=round(row.planned * 1000 / row.sent, 3)
        )
    span = row.last_in - row.first_in
    if (
        imp.keep_order
        and imp.jitter_ms > 0
        and not imp.rate_kbit
        and not imp.reorder
        and row.sent > 1
        and span > 0
    ):
        rate = (row.sent - 1) / span
        gap = float(f"{1000 / rate:.3g}")  # 3 digits: requests at a steady rate share the cache
        delay["order_kept"] = {
            "packets_per_s": round(rate, 1),
            "expected_mean": round(_expected_mean(imp.delay_ms, imp.jitter_ms, imp.jitter, gap), 3),
        }
    return delay


_expected_mean = functools.lru_cache(maxsize=64)(expected_mean)


def _configured_delay(d: dict[str, Any]) -> str:
    """``(configured 20 ± 5 uniform; 21.9 expected with order kept at 1,000 packets/s)``."""
    if "configured" not in d:
        return ""
    text = f"configured {d['configured']:g}"
    if d["jitter_ms"]:
        text += f" ± {d['jitter_ms']:g} {d['jitter']}"
    if "order_kept" in d:
        kept = d["order_kept"]
        text += (
            f"; {kept['expected_mean']:.2f} expected with order kept at "
            f"{kept['packets_per_s']:,.0f} packets/s"
        )
    return f" ({text})"


def format_summary(summary: dict[str, Any]) -> str:
    """The summary as a few lines for people."""
    lines = [f"profile {summary['profile']}"]
    for r in summary["rules"]:
        loss = r["loss"]
        lo, hi = loss["ci99"]
        realized = "-" if loss["realized"] is None else f"{loss['realized']:.4f}"
        target = f" (configured {loss['configured']:.4f})" if "configured" in loss else ""
        d = r["delay_ms"]
        lines.append(
            f"  {r['rule']:<12} {r['direction']}  {r['packets']:>8} packets  "
            f"loss {realized} [{lo:.4f}, {hi:.4f}]{target}  "
            f"delay p50/p95/p99 {_ms(d['p50'])}/{_ms(d['p95'])}/{_ms(d['p99'])} ms "
            f"mean {_ms(d['mean'])}" + _configured_delay(d)
        )
        lines.append("      " + "  ".join(f"{k} {v}" for k, v in r["counts"].items()))
        if "order_kept" in d:
            lines.append(
                f"      order keeping (no packet leaves before the one ahead of it) "
                f"raised the mean: drawn {d['drawn_mean']:.2f} ms, planned "
                f"{d['planned_mean']:.2f} ms (+{d['planned_mean'] - d['drawn_mean']:.2f})"
            )
        if "rate_queue" in r:
            q, late = r["rate_queue"], r["late_ms"]
            lines.append(
                f"      rate limit: {q['configured']} packets may wait; in the router at "
                f"once at most {q['in_router_max']} (kernel arrival to release"
                + ("" if q["complete"] else f", first {q['packets']} packets")
                + f"); releases up to {_ms(late['max'])} ms late"
            )
        if r.get("corrupt", {}).get("undetectable"):
            lines.append(
                f"      {r['corrupt']['undetectable']} corrupted datagrams carried no "
                "UDP checksum (0, SO_NO_CHECK): undetectable, they reached the "
                "application although the mode is detected"
            )
    queued = summary.get("queued_ms")
    if queued is not None:
        lines.append(
            "  queued before the engine: "
            + (
                f"p50/p99/max {_ms(queued['p50'])}/{_ms(queued['p99'])}/{_ms(queued['max'])} ms "
                f"(kernel timestamps, {queued['packets']} packets; counted in the delays above)"
                if queued["available"]
                else f"unavailable ({queued['why']})"
            )
        )
    over = summary["overload"]
    lines.append("  overload: " + ("  ".join(f"{k} {v}" for k, v in sorted(over.items())) or "none"))
    return "\n".join(lines)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"
