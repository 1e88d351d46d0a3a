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
from socklab.i18n import N_, _, pgettext
from socklab.i18n import title as check_title

_STATUS = {  # the mark, and the word in the reader's language
    "passed": ("✅", N_("passed")),
    "failed": ("❌", N_("failed")),
    "timeout": ("⏱️", N_("timed out")),
    "error": ("⚠️", N_("error")),
    "skipped": ("⏭️", N_("skipped")),
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
    name = pgettext("lab title", lab.title) if lab.title else lab.lab
    heading = f"### {cell(name)} ({cell(lab.lab)})\n\n"
    if lab.status == "error":
        warning = _("Grading platform error: not your fault.")
        return f"{heading}> [!WARNING]\n> **{warning}** {cell(feedback.platform_error(lab))}\n"
    points = _("{score} of {total} points").format(
        score=f"{feedback.score(lab):g}", total=f"{lab.max_score:g}"
    )
    points = f"**{points}** · {cell(feedback.impairment(lab))}\n\n"
    rows = "".join(_row(check, lab, options) for check in lab.checks)
    header = " | ".join(("#", _("Check"), _("Status"), _("Points"), _("Expected / observed")))
    return f"{heading}{points}| {header} |\n|---|---|---|---|---|\n{rows}"


def _row(check: CheckResult, lab: LabResult, options: FormatOptions) -> str:
    hidden = _("hidden")
    title = cell(check_title(check.id, check.title)) + (f" *({hidden})*" if check.hidden else "")
    points = f"{feedback.earned(check):g} / {check.max_points:g}"
    mark, word = _STATUS[check.status]
    return f"| {cell(check.number)} | {title} | {mark} {_(word)} | {points} | {_details(check, options)} |\n"


def _details(check: CheckResult, options: FormatOptions) -> str:
    if check.passed:
        return ""
    parts = [cell(feedback.headline(check, options))]
    if check.hidden:
        parts.append(_("hidden check: it runs only when your work is graded"))
    elif check.reproduce:
        parts.append(_("reproduce: {command}").format(command=code(check.reproduce)))
    return "<br>".join(parts)
