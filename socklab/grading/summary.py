"""A GitHub job summary: the checks of each lab as a Markdown table.

The workflow appends it to ``$GITHUB_STEP_SUMMARY``; GitHub renders it on the run's page.
Everything from a result is text a student's program may have chosen, so each cell is
escaped: control characters shown (``visible``), HTML escaped, the characters Markdown
and its tables give a meaning to escaped, line breaks as ``<br>``.
"""

from __future__ import annotations

import re

from socklab.grading import feedback
from socklab.grading.feedback import DEFAULT_OPTIONS, FormatOptions, Results
from socklab.grading.result import CheckResult, LabResult
from socklab.grading.text import capped, visible

_STATUS = {
    "passed": "✅ passed",
    "failed": "❌ failed",
    "timeout": "⏱️ timed out",
    "error": "⚠️ error",
    "skipped": "⏭️ skipped",
}
# HTML's specials, and what CommonMark and GitHub give a meaning to inside a line:
# emphasis, links, code, strikethrough, table cells, mentions, issue references, autolinks.
# One pass, each as a numeric reference, so no escape is escaped again.
_SPECIAL = re.compile(r"[&<>\"'\\`*_\[\]|~#@:]")


def cell(text: str, limit: int = 300) -> str:
    """``text`` as one Markdown table cell: inert, on one line, at most ``limit`` characters
    per line of the original."""
    lines = [capped(line, limit) for line in visible(text).replace("\t", " ").splitlines()]
    return "<br>".join(_SPECIAL.sub(lambda m: f"&#{ord(m.group())};", line) for line in lines)


def code(text: str) -> str:
    """A command in a cell, as code."""
    return f"<code>{cell(text)}</code>"


def summary(results: Results, options: FormatOptions = DEFAULT_OPTIONS) -> str:
    """The Markdown of the job summary: a heading, points and a table per lab."""
    return "\n".join(_lab(lab, options) for lab in feedback.as_list(results))


def _lab(lab: LabResult, options: FormatOptions) -> str:
    heading = f"### {cell(lab.title or lab.lab)} ({cell(lab.lab)})\n\n"
    if lab.status == "error":
        return (f"{heading}> [!WARNING]\n> **Grading platform error: not your fault.** "
                f"{cell(feedback.platform_error(lab))}\n")
    points = f"**{feedback.score(lab):g} of {lab.max_score:g} points** · " \
             f"{cell(feedback.impairment(lab))}\n\n"
    rows = "".join(_row(check, lab, options) for check in lab.checks)
    return (f"{heading}{points}| # | Check | Status | Points | Expected / observed |\n"
            f"|---|---|---|---|---|\n{rows}")


def _row(check: CheckResult, lab: LabResult, options: FormatOptions) -> str:
    title = cell(check.title) + (" *(hidden)*" if check.hidden else "")
    points = f"{feedback.earned(check):g} / {check.max_points:g}"
    return (f"| {cell(check.number)} | {title} | {_STATUS[check.status]} | {points} | "
            f"{_details(check, options)} |\n")


def _details(check: CheckResult, options: FormatOptions) -> str:
    if check.passed:
        return ""
    parts = [cell(feedback.headline(check, options))]
    if check.hidden:
        parts.append("hidden check: it runs only when your work is graded")
    elif check.reproduce:
        parts.append(f"reproduce: {code(check.reproduce)}")
    return "<br>".join(parts)
