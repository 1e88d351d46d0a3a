"""What a student reads of a result, shared by every report format.

Points come from the verdict, hidden checks can have their feedback withheld, and
a platform failure is worded so that nobody takes it for a wrong program.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

from socklab.errors import SocklabError
from socklab.grading.result import CheckResult, LabResult
from socklab.grading.text import visible
from socklab.i18n import N_, _, pgettext

Results = LabResult | Sequence[LabResult]
Visibility = Literal["visible", "hidden", "after_due_date", "after_published"]

WITHHELD = N_("This is a hidden check: its feedback is not shown to students.")


def withheld_text() -> str:
    return _(WITHHELD)


@dataclass(frozen=True)
class FormatOptions:
    """What students may see of hidden checks."""

    withhold_hidden_feedback: bool = False
    hidden_visibility: Visibility = "after_published"  # Gradescope's visibility of hidden checks

    def __post_init__(self) -> None:
        if self.hidden_visibility not in get_args(Visibility):
            known = ", ".join(get_args(Visibility))
            raise SocklabError(f"hidden_visibility must be one of {known}, not {self.hidden_visibility!r}")


DEFAULT_OPTIONS = FormatOptions()


def _label(status: str) -> str | None:
    """What a check's status adds to its message where a format knows only pass and fail."""
    return {
        "timeout": _("timed out"),
        "error": _("error: the check could not run to the end"),
        "skipped": _("skipped"),
    }.get(status)


def clean(text: str) -> str:
    """``text`` with what no XML or strict JSON reader accepts (most control characters, lone
    surrogates), and what would drive a terminal or reorder a line, shown as escapes."""
    return visible(text)


def as_list(results: Results) -> list[LabResult]:
    return [results] if isinstance(results, LabResult) else list(results)


def earned(check: CheckResult) -> float:
    """The check's points, all or nothing, from its verdict."""
    # No format shows partial credit (GitHub Classroom's reporter miscounts it)
    # or points for a check that did not pass, whatever ``points`` says.
    return check.max_points if check.passed else 0.0


def score(lab: LabResult) -> float:
    return sum(earned(c) for c in lab.checks)


def withheld(check: CheckResult, options: FormatOptions) -> bool:
    return check.hidden and options.withhold_hidden_feedback


def for_students(lab: LabResult, options: FormatOptions) -> LabResult:
    """The result with the feedback of hidden checks withheld, where that is asked for."""
    if not options.withhold_hidden_feedback:
        return lab
    checks = [
        dataclasses.replace(c, message=withheld_text(), evidence="", reproduce="") if c.hidden else c
        for c in lab.checks
    ]
    return dataclasses.replace(lab, checks=checks)


def headline(check: CheckResult, options: FormatOptions) -> str:
    """The verdict in a line: expected vs observed, and why when it is not plain failed."""
    if withheld(check, options):
        return withheld_text()
    label = _label(check.status)
    text = check.message
    if label and not text.lower().startswith(label):
        text = f"{label}: {text}" if text else label
    return clean(text or check.status)


def impairment(lab: LabResult) -> str:
    seed = _("no seed") if lab.seed is None else _("seed {seed}").format(seed=lab.seed)
    return _("profile {profile}, {seed}").format(profile=lab.profile, seed=seed)


def details(check: CheckResult, lab: LabResult, options: FormatOptions) -> str:
    """The evidence, and for a check that ran and did not pass, how to run it again."""
    if withheld(check, options):
        return ""
    parts = [check.evidence.rstrip()] if check.evidence.strip() else []
    if check.status in ("failed", "timeout", "error"):
        parts.append(_("Impairment: {impairment}").format(impairment=impairment(lab)))
        if check.reproduce and not check.hidden:  # the student's repository has no hidden checks
            parts.append(_("Reproduce: {command}").format(command=check.reproduce))
    return clean("\n".join(parts))


def text(check: CheckResult, lab: LabResult, options: FormatOptions) -> str:
    """Headline and details, for formats with a single text per check."""
    return "\n".join(p for p in (headline(check, options), details(check, lab, options)) if p)


def display_name(check: CheckResult) -> str:
    """The check's number and title, marked where a format has no field for hidden checks."""
    name = f"{check.number} {check.title}"
    return clean(f"{name} (hidden)" if check.hidden else name)


def platform_error(lab: LabResult) -> str:
    """Why a lab has no complete grade, worded for the student."""
    message = _(
        "{title} ({lab}) could not be graded: the grading platform failed. "
        "This is not your fault and says nothing about your code; submit again, "
        "and tell your instructor if it happens again. On your own machine, "
        "`socklab doctor` says what the machine lacks (Docker, Compose, the images)."
    ).format(title=pgettext("lab title", lab.title), lab=lab.lab)
    if lab.message:
        message += "\n" + _("Platform error: {message}").format(message=lab.message)
    return clean(message)


def summary(lab: LabResult) -> str:
    """A lab in a line, and the platform error if any."""
    # No pass/fail here: with hidden checks that alone would tell how they went.
    line = clean(f"{pgettext('lab title', lab.title)} ({lab.lab}): {impairment(lab)}")
    return f"{line}\n{platform_error(lab)}" if lab.status == "error" else line
