"""Thin adapters from socklab's one result to what each grading system reads.

Each adapter is a pure function from one ``LabResult``, or several for a submission
that covers several labs, to text. ``write`` picks one by name and writes atomically.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path

from socklab.errors import SocklabError
from socklab.grading import feedback
from socklab.grading.feedback import DEFAULT_OPTIONS, FormatOptions, Results
from socklab.grading.junit import junit
from socklab.grading.result import CheckResult, LabResult, write_atomic
from socklab.i18n import in_english

__all__ = [
    "FORMATS",
    "FormatOptions",
    "classroom",
    "classroom_output",
    "gradescope",
    "junit",
    "prairielearn",
    "socklab_json",
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


# --- GitHub Classroom -------------------------------------------------------------

_CLASSROOM_STATUS = {
    "passed": "pass",
    "failed": "fail",
    "timeout": "fail",
    "skipped": "fail",
    "error": "error",
}


def classroom(results: Results, options: FormatOptions = DEFAULT_OPTIONS) -> str:
    """GitHub Classroom's runner result (version 1), as its grading reporter reads it."""
    return _dumps(_classroom(feedback.as_list(results), options))


def classroom_output(results: Results, options: FormatOptions = DEFAULT_OPTIONS) -> str:
    """The runner result base64-encoded: the value of the step output ``result``."""
    text = json.dumps(_classroom(feedback.as_list(results), options), separators=(",", ":"))
    return base64.b64encode(text.encode()).decode("ascii")


def _classroom(labs: list[LabResult], options: FormatOptions) -> dict:
    tests = []
    for lab in labs:
        if lab.status == "error":
            tests.append(_classroom_platform_error(lab))
        tests.extend(_classroom_test(check, lab, options) for check in lab.checks)
    if any(lab.status == "error" for lab in labs):
        status = "error"
    elif all(lab.status == "passed" for lab in labs) and all(t["status"] == "pass" for t in tests):
        status = "pass"
    else:
        status = "fail"
    return {
        "version": 1,
        "status": status,
        "max_score": sum(lab.max_score for lab in labs),
        "tests": tests,
    }


def _ms(seconds: float) -> int:
    # Classroom's own io-grader reports durations in milliseconds.
    return round(seconds * 1000)


def _classroom_test(check: CheckResult, lab: LabResult, options: FormatOptions) -> dict:
    return {
        "name": feedback.display_name(check),
        "status": _CLASSROOM_STATUS[check.status],
        "score": feedback.earned(check),
        "message": feedback.text(check, lab, options),
        "test_code": "" if feedback.withheld(check, options) else feedback.clean(check.reproduce),
        "filename": "",
        "line_no": 0,
        "duration": _ms(check.duration),
    }


def _classroom_platform_error(lab: LabResult) -> dict:
    return {
        "name": feedback.clean(f"{lab.title}: grading platform error (not your fault)"),
        "status": "error",
        "score": 0.0,
        "message": feedback.platform_error(lab),
        "test_code": "",
        "filename": "",
        "line_no": 0,
        "duration": _ms(lab.duration),
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
}


def write(results: Results, fmt: str, path: Path, options: FormatOptions = DEFAULT_OPTIONS) -> None:
    """Write ``results`` as format ``fmt`` to ``path``: readers see the old file or the new."""
    adapter = FORMATS.get(fmt)
    if adapter is None:
        known = ", ".join(FORMATS)
        raise SocklabError(f"unknown report format {fmt!r}; known formats: {known}")
    # Render before touching the file, so a failing adapter leaves the old one whole.
    write_atomic(path, adapter(results, options))
