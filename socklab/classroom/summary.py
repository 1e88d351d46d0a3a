"""The batch's summary page: how many passed, the score distribution, the checks most
often failed, and a link to every student's report. ``index.html`` + ``scores.png``."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from socklab.classroom.gradebook import Entry
from socklab.classroom.store import REPORT
from socklab.grading import feedback
from socklab.grading.result import write_atomic
from socklab.grading.text import in_html as escape

PLOT = "scores.png"


@dataclass(frozen=True)
class Stats:
    statuses: Counter[str]
    scores: list[float]  # of the students with a verdict (no platform error)
    failed: list[tuple[str, str, int]]  # (check number, title, how many failed it), most first

    @property
    def mean(self) -> float:
        return statistics.fmean(self.scores) if self.scores else 0.0

    @property
    def median(self) -> float:
        return statistics.median(self.scores) if self.scores else 0.0


def stats(entries: Sequence[Entry]) -> Stats:
    statuses: Counter[str] = Counter()
    failures: Counter[str] = Counter()
    titles: dict[str, tuple[str, str]] = {}
    scores = []
    for _, result in entries:
        statuses[result.status if result else "not graded"] += 1
        if result is None or result.status == "error":
            continue
        scores.append(feedback.score(result))
        for c in result.checks:
            titles.setdefault(c.id, (c.number, c.title + (" (hidden)" if c.hidden else "")))
            failures[c.id] += not c.passed
    failed = sorted(((*titles[cid], n) for cid, n in failures.items() if n), key=lambda t: (-t[2], t[0]))
    return Stats(statuses, scores, failed)


def plot(scores: list[float], max_points: float, path: Path) -> None:
    """A histogram of the totals, one bar per point (matplotlib, no display needed)."""
    # imported here: a second to load, and needed only here
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(7, 3.2), dpi=100)
    ax = fig.add_subplot()
    top = max(max_points, *scores) if scores else max_points
    ax.hist(scores, bins=[x - 0.5 for x in range(int(top) + 2)], color="#3465a4", edgecolor="white")
    ax.set_xlabel("points")
    ax.set_ylabel("students")
    ax.set_xlim(-0.5, top + 0.5)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(f"score distribution ({len(scores)} students with a verdict)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")


_STYLE = """body{font-family:system-ui,sans-serif;margin:2em;max-width:60em}
table{border-collapse:collapse}td,th{padding:.2em .8em;border-bottom:1px solid #ddd;text-align:left}
td.n{text-align:right}.passed{color:#2e7d32}.failed{color:#c62828}.error,.not{color:#8e24aa}"""


def page(title: str, entries: Sequence[Entry], max_points: float, s: Stats) -> str:
    """The summary page; every name and message is escaped (folder names are not ours)."""
    counts = ", ".join(f"{n} {escape(k)}" for k, n in sorted(s.statuses.items()))
    failed = "".join(
        f"<tr><td>{escape(num)}</td><td>{escape(t)}</td><td class=n>{n}</td>"
        f"<td class=n>{100 * n / len(s.scores):.0f}%</td></tr>"
        for num, t, n in s.failed[:10]
    )
    rows = []
    for student, result in entries:
        status = result.status if result else "not graded"
        total = f"{feedback.score(result):g}" if result and result.status != "error" else "—"
        link = f"students/{quote(student, errors='surrogateescape')}/{REPORT}"
        name = f"<a href='{escape(link)}'>{escape(student)}</a>" if result else escape(student)
        note = escape(result.message.splitlines()[0]) if result and result.message else ""
        rows.append(
            f"<tr><td>{name}</td><td class=n>{total}</td>"
            f"<td class='{status.split()[0]}'>{escape(status)}</td><td>{note}</td></tr>"
        )
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{escape(title)}</title><style>{_STYLE}</style></head>
<body><h1>{escape(title)}</h1>
<p>{len(entries)} submissions: {counts}. Mean {s.mean:.1f} / {max_points:g} points,
median {s.median:g}. The gradebook: <a href="gradebook.csv">gradebook.csv</a>; to import:
<a href="canvas.csv">canvas.csv</a> (Canvas), <a href="moodle.csv">moodle.csv</a> (Moodle);
who is missing: <a href="unmatched.csv">unmatched.csv</a>.</p>
<img src="{PLOT}" alt="score distribution">
<h2>Checks most often failed</h2>
{
        f"<table><tr><th>#</th><th>check</th><th>failed</th><th>of graded</th></tr>{failed}</table>"
        if failed
        else "<p>None: every graded submission passed every check.</p>"
    }
<h2>Students</h2>
<table><tr><th>student</th><th>points</th><th>status</th><th></th></tr>
{"".join(rows)}
</table></body></html>
"""


def write(out: Path, title: str, entries: Sequence[Entry], max_points: float) -> None:
    s = stats(entries)
    plot(s.scores, max_points, out / PLOT)
    write_atomic(out / "index.html", page(title, entries, max_points, s))
