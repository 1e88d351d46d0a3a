"""The human-readable report of a lab run, for a terminal (rich) or a plain file."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape as _escape
from rich.table import Table

from socklab.grading.result import LabResult
from socklab.grading.text import visible
from socklab.i18n import _, ngettext, pgettext
from socklab.i18n import title as _title


def escape(text: str) -> str:
    """``text`` safe to print: rich markup escaped, control and bidi characters made visible,
    so that bytes a check quotes from the network never drive the reader's terminal."""
    return _escape(visible(text))


COLOURS = {"passed": "green", "failed": "red", "timeout": "red", "error": "magenta", "skipped": "yellow"}


def _marks() -> dict[str, str]:
    # the marks stay short in every language: a column of them is read at a glance
    words = {
        "passed": _("PASS"),
        "failed": _("FAIL"),
        "timeout": _("TIME"),
        "error": _("ERROR"),
        "skipped": _("SKIP"),
    }
    return {status: f"[{COLOURS[status]}]{word}[/]" for status, word in words.items()}


def _status(status: str) -> str:
    return {
        "passed": _("passed"),
        "failed": _("failed"),
        "timeout": _("timed out"),
        "error": _("error"),
        "skipped": _("skipped"),
    }.get(status, status)


def _points(value: float) -> str:
    return f"{value:g}"


def show(result: LabResult, console: Console) -> None:
    """One line per check, then each failure's evidence, then the verdict."""
    heading = _("lab {lab}: {title}").format(lab=result.lab, title=pgettext("lab title", result.title))
    table = Table(title=heading, title_justify="left", show_edge=False, pad_edge=False, box=None)
    table.add_column("", no_wrap=True)
    table.add_column("#", style="dim", no_wrap=True)
    table.add_column(_("check"))
    table.add_column(_("points"), justify="right", no_wrap=True)
    marks = _marks()
    for check in result.checks:
        table.add_row(
            marks[check.status],
            check.number,
            escape(_title(check.id, check.title)),
            f"{_points(check.points)}/{_points(check.max_points)}",
        )
    if result.checks:
        console.print(table)
    for check in result.checks:
        if check.passed:
            continue
        console.print(
            f"\n[bold]{check.number} {escape(_title(check.id, check.title))}[/] — {_status(check.status)}"
        )
        for text in (check.message, check.evidence):
            if text:
                console.print(escape(text), highlight=False)
        if check.reproduce:
            label = _("reproduce:")
            console.print(f"[dim]{label}[/] {escape(check.reproduce)}", highlight=False)
    console.print()
    seed = _(", seed {seed}").format(seed=result.seed) if result.seed is not None else ""
    where = _("code: {code}; profile {profile}{seed}; artifacts: {artifacts}").format(
        code=escape(result.code), profile=result.profile, seed=seed, artifacts=escape(result.artifacts)
    )
    console.print(f"[dim]{where}[/]", highlight=False)
    if result.status == "error":
        label, aside = _("PLATFORM ERROR"), _("(not a verdict on your code):")
        console.print(f"[magenta bold]{label}[/] {aside} {escape(result.message)}", highlight=False)
        return
    failed = sum(not c.passed for c in result.checks)
    total = len(result.checks)
    how_many = ngettext(" ({failed} of {total} check)", " ({failed} of {total} checks)", total)
    passed, failed_word = _("PASSED"), _("FAILED")
    verdict = (
        f"[green bold]{passed}[/]"
        if result.status == "passed"
        else f"[red bold]{failed_word}[/]" + how_many.format(failed=failed, total=total)
    )
    points = _("{score}/{max_score} points in {seconds:.1f} s").format(
        score=_points(result.score), max_score=_points(result.max_score), seconds=result.duration
    )
    console.print(f"{verdict}  {points}", highlight=False)
