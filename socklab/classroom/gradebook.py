"""The gradebook: one CSV row per student, the points of every check, the total, the status."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

from socklab.grading import feedback
from socklab.grading.result import LabResult, write_atomic
from socklab.grading.text import visible

Entry = tuple[str, LabResult | None]  # a student and their result (None: not graded)


def _order(number: str) -> tuple[int, ...]:
    """ "1.10" after "1.9"."""
    return tuple(int(part) if part.isdigit() else 0 for part in number.split("."))


def columns(results: Sequence[LabResult | None]) -> list[tuple[str, str]]:
    """(check id, column title) of every check any result has, in check order."""
    seen: dict[str, tuple[tuple[int, ...], str]] = {}
    for result in results:
        for c in result.checks if result else []:
            title = f"{c.number} {c.id}" + (" (hidden)" if c.hidden else "")
            seen.setdefault(c.id, (_order(c.number), title))
    return [(cid, title) for cid, (_, title) in sorted(seen.items(), key=lambda kv: kv[1])]


def cell(text: str) -> str:
    """``text`` safe in a spreadsheet: visible, and not run as a formula."""
    # A spreadsheet runs a cell that starts with one of these as a formula.
    text = visible(text)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def points(value: float) -> str:
    return f"{value:g}"


def table(entries: Sequence[Entry], max_points: float) -> list[list[str]]:
    """Header and rows; ``max_points`` stands where a result has no checks (an error)."""
    cols = columns([r for _, r in entries])
    rows = [["student", "status", "total", "max", *(t for _, t in cols), "message"]]
    for student, result in entries:
        if result is None:
            rows.append(
                [
                    cell(student),
                    "not graded",
                    "",
                    points(max_points),
                    *([""] * len(cols)),
                    "not graded: run the batch again",
                ]
            )
            continue
        by_id = {c.id: c for c in result.checks}
        cells = [points(feedback.earned(by_id[cid])) if cid in by_id else "" for cid, _ in cols]
        message = result.message.splitlines()[0] if result.status == "error" and result.message else ""
        rows.append(
            [
                cell(student),
                result.status,
                points(feedback.score(result)),
                points(result.max_score if result.checks else max_points),
                *cells,
                cell(message),
            ]
        )
    return rows


def render(entries: Sequence[Entry], max_points: float) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(table(entries, max_points))
    return buf.getvalue()


def write(path: Path, entries: Sequence[Entry], max_points: float) -> None:
    write_atomic(path, render(entries, max_points))
