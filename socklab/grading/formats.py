"""Thin adapters from socklab's one result to what each grading system reads.

Each adapter is a pure function from one ``LabResult``, or several for a submission
that covers several labs, to text. ``write`` picks one by name and writes atomically.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from socklab.errors import SocklabError
from socklab.grading import feedback
from socklab.grading.classroom import classroom
from socklab.grading.feedback import DEFAULT_OPTIONS, FormatOptions, Results
from socklab.grading.junit import junit
from socklab.grading.result import CheckResult, LabResult, write_atomic
from socklab.grading.summary import summary
from socklab.i18n import in_english

__all__ = [
    "FORMATS",
    "FormatOptions",
    "classroom",
    "gradescope",
    "junit",
    "prairielearn",
    "socklab_json",
    "summary",
    "write",
]


def _dumps(document: object) -> str:
    return json.dumps(document, indent=2) + "\n"


# --- Gradescope -------------------------------------------------------------------


def gradescope(results: Results, options: FormatOptions = DEFAULT_OPTIONS) -> str:
    """Gradescope's ``results.json``, without a top-level score so that it sums the tests."""
    labs = feedback.as_list(results)
    tests = []
    for lab in labs:
        if lab.status == "error":
            tests.append(_gradescope_platform_error(lab))
        tests.extend(_gradescope_test(check, lab, options) for check in lab.checks)
    return _dumps(
        {
            "execution_time": round(sum(lab.duration for lab in labs), 3),
            "output": "\n\n".join(feedback.summary(lab) for lab in labs),
            # Program output may hold HTML (lab 7): show it as printed.
            "output_format": "text",
            "test_output_format": "text",
            "test_name_format": "text",
            "visibility": "visible",
            # The grader's own log may name hidden checks.
            "stdout_visibility": "hidden",
            "tests": tests,
        }
    )


def _gradescope_test(check: CheckResult, lab: LabResult, options: FormatOptions) -> dict:
    return {
        "name": feedback.clean(check.title),
        "number": check.number,
        "score": feedback.earned(check),
        "max_score": check.max_points,
        # Gradescope knows passed and failed only; the output says what else happened.
        "status": "passed" if check.passed else "failed",
        "output": feedback.text(check, lab, options),
        "tags": [lab.lab, "hidden"] if check.hidden else [lab.lab],
        "visibility": options.hidden_visibility if check.hidden else "visible",
    }


def _gradescope_platform_error(lab: LabResult) -> dict:
    return {
        "name": feedback.clean(f"{lab.title}: grading platform error (not your fault)"),
        "score": 0.0,
        "max_score": 0.0,
        "status": "failed",
        "output": feedback.platform_error(lab),
        "tags": [lab.lab, "platform-error"],
        "visibility": "visible",
    }


# --- PrairieLearn -------------------------------------------------------------------


def prairielearn(results: Results, options: FormatOptions = DEFAULT_OPTIONS) -> str:
    """PrairieLearn's ``results.json``; the grader must still exit 0 for it to count."""
    labs = feedback.as_list(results)
    possible = sum(lab.max_score for lab in labs)
    checks = [check for lab in labs for check in lab.checks]
    errors = [feedback.platform_error(lab) for lab in labs if lab.status == "error"]
    passed = sum(check.passed for check in checks)
    document: dict = {
        # Not gradable: the student keeps the attempt and loses no points.
        "gradable": not errors,
        "score": sum(feedback.score(lab) for lab in labs) / possible if possible else 0.0,
        "message": "\n".join(errors) or f"{passed} of {len(checks)} checks passed.",
        "output": "\n".join(feedback.summary(lab) for lab in labs),
        "tests": [_prairielearn_test(check, lab, options) for lab in labs for check in lab.checks],
    }
    if errors:
        document["format_errors"] = errors
    return _dumps(document)


def _prairielearn_test(check: CheckResult, lab: LabResult, options: FormatOptions) -> dict:
    return {
        "name": feedback.display_name(check),
        "description": feedback.clean(f"{lab.title} ({lab.lab})"),
        "points": feedback.earned(check),
        "max_points": check.max_points,
        "message": feedback.headline(check, options),
        "output": feedback.details(check, lab, options),
    }


# --- socklab's own ------------------------------------------------------------------


@in_english  # a machine format: the same in every language
def socklab_json(results: Results, options: FormatOptions = DEFAULT_OPTIONS) -> str:
    """socklab's complete result, ``to_dict()``; a list of them for several labs."""

    def plain(lab: LabResult) -> dict:
        return feedback.for_students(lab, options).to_dict()

    if isinstance(results, LabResult):
        return _dumps(plain(results))
    return _dumps([plain(lab) for lab in results])


FORMATS: dict[str, Callable[[Results, FormatOptions], str]] = {
    "gradescope": gradescope,
    "classroom": classroom,
    "junit": junit,
    "prairielearn": prairielearn,
    "json": socklab_json,
    "summary": summary,
}


def write(results: Results, fmt: str, path: Path, options: FormatOptions = DEFAULT_OPTIONS) -> None:
    """Write ``results`` as format ``fmt`` to ``path``: readers see the old file or the new."""
    adapter = FORMATS.get(fmt)
    if adapter is None:
        known = ", ".join(FORMATS)
        raise SocklabError(f"unknown report format {fmt!r}; known formats: {known}")
    # Render before touching the file, so a failing adapter leaves the old one whole.
    write_atomic(path, adapter(results, options))
