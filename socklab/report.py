"""The human-readable report of a lab run, for a terminal (rich) or a plain file."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape as _escape
from rich.table import Table

from socklab.grading.result import LabResult
from socklab.grading.text import visible


def escape(text: str) -> str:
    """``text`` safe to print: rich markup escaped, control and bidi characters made visible,
    so that bytes a check quotes from the network never drive the reader's terminal."""
    return _escape(visible(text))


MARK = {"passed": "[green]PASS[/]", "failed": "[red]FAIL[/]", "timeout": "[red]TIME[/]",
        "error": "[magenta]ERROR[/]", "skipped": "[yellow]SKIP[/]"}


def _points(value: float) -> str:
    return f"{value:g}"


def show(result: LabResult, console: Console) -> None:
    """One line per check, then each failure's evidence, then the verdict."""
    table = Table(title=f"lab {result.lab}: {result.title}", title_justify="left",
                  show_edge=False, pad_edge=False, box=None)
    table.add_column("", no_wrap=True)
    table.add_column("#", style="dim", no_wrap=True)
    table.add_column("check")
    table.add_column("points", justify="right", no_wrap=True)
    for check in result.checks:
        table.add_row(MARK[check.status], check.number, escape(check.title),
                      f"{_points(check.points)}/{_points(check.max_points)}")
    if result.checks:
        console.print(table)
    for check in result.checks:
        if check.passed:
            continue
        console.print(f"\n[bold]{check.number} {escape(check.title)}[/] — {check.status}")
        for text in (check.message, check.evidence):
            if text:
                console.print(escape(text), highlight=False)
        if check.reproduce:
            console.print(f"[dim]reproduce:[/] {escape(check.reproduce)}", highlight=False)
    console.print()
    seed = f", seed {result.seed}" if result.seed is not None else ""
    where = f"[dim]code: {escape(result.code)}; profile {result.profile}{seed}; " \
            f"artifacts: {escape(result.artifacts)}[/]"
    console.print(where, highlight=False)
    if result.status == "error":
        console.print(f"[magenta bold]PLATFORM ERROR[/] (not a verdict on your code): "
                      f"{escape(result.message)}", highlight=False)
        return
    failed = sum(not c.passed for c in result.checks)
    verdict = "[green bold]PASSED[/]" if result.status == "passed" else \
        f"[red bold]FAILED[/] ({failed} of {len(result.checks)} checks)"
    console.print(f"{verdict}  {_points(result.score)}/{_points(result.max_score)} points "
                  f"in {result.duration:.1f} s", highlight=False)
