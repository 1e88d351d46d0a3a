"""GitHub Classroom: the runner results its grading reporter reads, points and all.

What the reporter does, read from ``classroom-resources/autograding-grading-reporter``
(``dist/main.js`` at commit d13b5912, the bundle ``@v1`` runs; its sources
``src/main.js``, ``src/notify-classroom.js``, ``src/helpers/test-helpers.js``):

- It splits its ``runners`` input on ``,`` and reads each runner's result from the
  environment variable ``<RUNNER>_RESULTS`` (the id trimmed and upper-cased), base64 of
  the JSON ``{"version": 1, "status", "max_score", "tests": [...]}``. An empty or
  missing variable makes ``JSON.parse`` throw; the error handler then tests the input
  against ``^([a-zA-Z0-9]+,)*[a-zA-Z0-9]+$`` and, when it does not match (``lab-1``),
  prints "The runners input must be a comma-separated list of strings." instead of the
  real error. So runner ids here are letters and digits, and ``socklab grade`` writes
  every runner's output, also when the platform failed.
- The log, per test: ``pass`` prints "✅ name"; ``error`` prints
  "Error: <message>" (not the name); anything else prints "❌ name". Then, whatever the
  status, "Test code:" and ``test_code`` when it is not empty. ``message`` is printed for
  ``error`` only, so a failed check's expected, observed and command go in ``test_code``.
- The log's points, per runner (``getTestScore`` in the bundle): passed tests / number of
  tests × ``max_score``, printed as "Total points for <runner>: S.toFixed(2)/max", a
  table row ``[runner, S, max_score]`` and a "Total:" row that adds the rows up. (A
  later ``src/helpers/test-helpers.js`` sums ``tests[].score`` instead.)
- The annotation Classroom records (``NotifyClassroom``): over the runners with a
  non-zero ``max_score``, ``Points <sum of tests[].score>/<sum of max_score>``.
- The step fails with "Some tests failed." if a runner's status is ``fail``, else with
  "Some tests errored." if one is ``error``.

So that every one of those numbers is socklab's weighted score, a check of ``w`` points
is ``w`` tests of one point each (score 1 or 0) and ``max_score`` is the number of
tests: passed / tests × max_score is then the points earned. But JavaScript computes in
doubles, where ``k / m * m`` is not always ``k`` (15 / 22 * 22 = 14.999999999999998), so
a lab of ``m`` points is cut into runners of sizes for which it is exact for every ``k``
(``runner_sizes``): lab 3 (22 points) reports as ``lab3`` (21) and ``lab3part2`` (1).
"""

from __future__ import annotations

import base64
import json

from socklab.grading import feedback
from socklab.grading.feedback import DEFAULT_OPTIONS, FormatOptions, Results
from socklab.grading.result import CheckResult, LabResult
from socklab.i18n import N_, _, ngettext, pgettext

HIDDEN_NOTE = N_("Hidden check: it runs only when your work is graded, and your repository does not have it.")


def exact(size: int) -> bool:
    """Whether the reporter's passed / size * size is exactly passed for every count."""
    return all(passed / size * size == passed for passed in range(size + 1))


def runner_sizes(points: int) -> list[int]:
    """The points of each runner a lab of ``points`` points reports as, largest first."""
    sizes = []
    while points > 0:
        size = next(s for s in range(points, 0, -1) if exact(s))  # 1 always is
        sizes.append(size)
        points -= size
    return sizes


def runners(number: int, points: int) -> list[str]:
    """The reporter's runner ids for lab ``number``: ``lab3``, then ``lab3part2`` ..."""
    return [f"lab{number}" if i == 0 else f"lab{number}part{i + 1}" for i in range(len(runner_sizes(points)))]


def classroom(results: Results, options: FormatOptions = DEFAULT_OPTIONS) -> str:
    """One runner result (version 1) for all of ``results``, one test per point."""
    labs = feedback.as_list(results)
    tests = [t for lab in labs for t in _tests(lab, options)]
    document = _document(
        tests, sum(int(lab.max_score) for lab in labs), error=any(lab.status == "error" for lab in labs)
    )
    return json.dumps(document, indent=2) + "\n"


def outputs(
    lab: LabResult, number: int, points: int, options: FormatOptions = DEFAULT_OPTIONS
) -> dict[str, str]:
    """The step outputs, runner id to base64 result, for lab ``number`` of ``points`` points.

    ``points`` is the lab's declared total (``Lab.graded_points``): the runners must be the
    ones the workflow names, whatever happened in the run.
    """
    tests = _tests(lab, options)
    if lab.status != "error" and len(tests) != points:
        lab = _mismatch(lab, points)
    parts = {}
    start = 0
    for runner, size in zip(runners(number, points), runner_sizes(points), strict=True):
        if lab.status == "error":
            # passed / tests is 0 whatever the count: one test saying why is enough
            document = _document([_platform_error(lab)], size, error=True)
        else:
            document = _document(tests[start : start + size], size, error=False)
        start += size
        text = json.dumps(document, separators=(",", ":"))
        parts[runner] = base64.b64encode(text.encode()).decode("ascii")
    return parts


def _document(tests: list[dict], max_score: int, *, error: bool) -> dict:
    passed = all(t["status"] == "pass" for t in tests)
    status = "error" if error else "pass" if passed else "fail"
    return {"version": 1, "status": status, "max_score": max_score, "tests": tests}


def _tests(lab: LabResult, options: FormatOptions) -> list[dict]:
    if lab.status == "error":
        return [_platform_error(lab)]
    return [test for check in lab.checks for test in _check_tests(check, lab, options)]


def _check_tests(check: CheckResult, lab: LabResult, options: FormatOptions) -> list[dict]:
    weight = int(check.max_points)
    status = "pass" if check.passed else "fail"  # "error" would print no name
    name = feedback.display_name(check)
    points = ngettext("{n} point", "{n} points", weight).format(n=weight)
    first = _test(
        f"{name} ({points})", status, "" if check.passed else _failure(check, lab, options), check.duration
    )
    return [first] + [_test(f"{name} ({_point(i, weight)})", status, "", 0.0) for i in range(2, weight + 1)]


def _point(i: int, weight: int) -> str:
    return _("point {i} of {n}").format(i=i, n=weight)


def _failure(check: CheckResult, lab: LabResult, options: FormatOptions) -> str:
    text = feedback.text(check, lab, options)
    return f"{text}\n{_(HIDDEN_NOTE)}" if check.hidden else text


def _test(name: str, status: str, test_code: str, duration: float) -> dict:
    return {
        "name": name,
        "status": status,
        "score": 1 if status == "pass" else 0,
        "message": test_code,
        "test_code": test_code,  # the one the reporter prints for a failed test
        "filename": "",
        "line_no": 0,
        "duration": round(duration * 1000),  # milliseconds, as Classroom's own graders
    }


def _platform_error(lab: LabResult) -> dict:
    return {
        "name": feedback.clean(
            _("{lab}: grading platform error (not your fault)").format(
                lab=pgettext("lab title", lab.title) if lab.title else lab.lab
            )
        ),
        "status": "error",
        "score": 0,
        "message": feedback.platform_error(lab),  # printed, for status error
        "test_code": "",
        "filename": "",
        "line_no": 0,
        "duration": round(lab.duration * 1000),
    }


def _mismatch(lab: LabResult, points: int) -> LabResult:
    return LabResult(
        lab=lab.lab,
        title=lab.title,
        code=lab.code,
        status="error",
        duration=lab.duration,
        version=lab.version,
        message=f"the checks that ran are worth {lab.max_score:g} points in whole-point "
        f"tests, but lab.toml declares {points}",
    )
