"""The report formats, each checked against its published schema or parsed back."""

from __future__ import annotations

import base64
import html
import json
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
import xmlschema
from hypothesis import given, settings
from hypothesis import strategies as st

from socklab.errors import SocklabError
from socklab.grading import classroom as classroom_format
from socklab.grading import feedback, formats
from socklab.grading.feedback import WITHHELD, FormatOptions
from socklab.grading.formats import FORMATS, write
from socklab.grading.result import CheckResult, LabResult, load

SCHEMAS = Path(__file__).parent / "schemas"
SECRET = "SECRET-hidden-expectation"
PLATFORM_MESSAGE = "docker: image socklab/router:1 not found"
# Printed by a broken student program: NUL, ESC, a lone surrogate, and text that must survive.
GARBAGE = "got b'\\x00' then \x00\x1b[31m\udc80 <html> caf\u00e9 \u2192 done"


def check(number: str, status: str, max_points: float = 2.0, **fields) -> CheckResult:
    fields.setdefault("points", max_points if status == "passed" else 0.0)
    return CheckResult(
        id=f"test_{number.replace('.', '_')}",
        title=f"check {number}",
        number=number,
        status=status,  # type: ignore[arg-type]
        max_points=max_points,
        duration=1.25,
        **fields,
    )


def lab(status: str, checks: list[CheckResult], name: str = "04-framing", **fields) -> LabResult:
    return LabResult(
        lab=name,
        title=f"Lab {name}",
        code="submissions/alice",
        status=status,  # type: ignore[arg-type]
        checks=checks,
        profile="lossy",
        seed=1234,
        started_at="2025-01-01T10:00:00Z",
        duration=12.5,
        **fields,
    )


def passing() -> LabResult:
    return lab("passed", [check("4.1", "passed"), check("4.2", "passed", 3.0)], name="01-tcp-echo")


def mixed() -> LabResult:
    return lab(
        "failed",
        [
            check("4.1", "passed", 1.0),
            check(
                "4.2",
                "failed",
                3.0,
                message="expected 5 messages, observed 3",
                evidence=GARBAGE,
                reproduce="socklab check 4 --only test_4_2 --seed 1234",
            ),
            check("4.3", "timeout", 2.0, message="timed out after 10 s"),
            check("4.4", "error", 1.0, message="fixture could not start the server"),
            check("4.5", "skipped", 1.0, message="needs 4.4"),
            check(
                "4.6",
                "failed",
                2.0,
                hidden=True,
                message=SECRET,
                evidence=SECRET,
                reproduce=f"socklab check 4 --only {SECRET}",
            ),
            check("4.7", "passed", 2.0, hidden=True, message=SECRET),
        ],
    )


def platform_error() -> LabResult:
    return lab("error", [check("4.1", "passed", 1.0)], message=PLATFORM_MESSAGE)


KINDS = {
    "passing": passing,
    "mixed": mixed,
    "error": platform_error,
    "two labs": lambda: [passing(), mixed()],
}
WITHHOLD = FormatOptions(withhold_hidden_feedback=True)


def validate(text: str, schema: str) -> dict:
    document = json.loads(text)
    schema_doc = json.loads((SCHEMAS / f"{schema}.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema_doc)
    jsonschema.Draft202012Validator(schema_doc).validate(document)
    return document


def by_number(tests: list[dict], key: str = "number") -> dict[str, dict]:
    return {t[key]: t for t in tests if key in t}


# --- Gradescope ---------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_gradescope_matches_schema(kind):
    validate(formats.gradescope(KINDS[kind]()), "gradescope")


def test_gradescope_sums_all_or_nothing_scores_and_maps_statuses():
    doc = validate(formats.gradescope(mixed()), "gradescope")
    tests = by_number(doc["tests"])
    assert "score" not in doc
    assert doc["execution_time"] == 12.5
    assert sum(t["score"] for t in doc["tests"]) == 1.0 + 2.0  # 4.1 and hidden 4.7
    assert {n: t["status"] for n, t in tests.items()} == {
        "4.1": "passed",
        "4.2": "failed",
        "4.3": "failed",
        "4.4": "failed",
        "4.5": "failed",
        "4.6": "failed",
        "4.7": "passed",
    }
    assert tests["4.3"]["output"].startswith("timed out after 10 s")
    assert tests["4.4"]["output"].startswith("error: the check could not run to the end")
    assert tests["4.5"]["output"].startswith("skipped: needs 4.4")
    assert "Reproduce: socklab check 4 --only test_4_2 --seed 1234" in tests["4.2"]["output"]
    assert "profile lossy, seed 1234" in tests["4.2"]["output"]
    assert "<html>" in tests["4.2"]["output"] and doc["test_output_format"] == "text"


def test_gradescope_hidden_visibility_is_configurable():
    default = by_number(json.loads(formats.gradescope(mixed()))["tests"])
    hidden = by_number(
        json.loads(formats.gradescope(mixed(), FormatOptions(hidden_visibility="hidden")))["tests"]
    )
    assert default["4.6"]["visibility"] == "after_published"
    # The summary says nothing a hidden check's result could be read from.
    assert "failed" not in json.loads(formats.gradescope(mixed()))["output"]
    assert "hidden" in default["4.6"]["tags"]
    assert hidden["4.6"]["visibility"] == "hidden"
    assert default["4.1"]["visibility"] == hidden["4.1"]["visibility"] == "visible"


def test_gradescope_platform_error_is_a_failed_test_saying_not_your_fault():
    doc = validate(formats.gradescope(platform_error()), "gradescope")
    first = doc["tests"][0]
    assert first["status"] == "failed" and first["max_score"] == 0
    assert "not your fault" in first["output"] and PLATFORM_MESSAGE in first["output"]
    assert "not your fault" in doc["output"]


def test_unknown_hidden_visibility_is_refused():
    with pytest.raises(SocklabError, match=r"hidden_visibility must be one of .*not 'sometimes'"):
        FormatOptions(hidden_visibility="sometimes")  # type: ignore[arg-type]


# --- GitHub Classroom ---------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        ("passing", "pass"),
        ("mixed", "fail"),
        ("error", "error"),
        ("two labs", "fail"),
    ],
)
def test_classroom_matches_schema_and_status(kind, status):
    doc = validate(formats.classroom(KINDS[kind]()), "classroom")
    assert doc["status"] == status


def test_classroom_error_in_any_lab_makes_the_run_an_error():
    doc = json.loads(formats.classroom([passing(), platform_error()]))
    assert doc["status"] == "error"
    error = doc["tests"][-1]
    # the reporter prints the message of a test in error, not its name
    assert error["status"] == "error" and "not your fault" in error["message"]
    assert "socklab doctor" in error["message"]


def test_classroom_has_a_test_per_point_scored_one_or_nothing():
    doc = json.loads(formats.classroom(mixed()))
    assert doc["max_score"] == 12 == len(doc["tests"])
    assert sum(t["score"] for t in doc["tests"]) == 3  # 4.1 and hidden 4.7
    names = [t["name"] for t in doc["tests"]]
    assert names[:4] == [
        "4.1 check 4.1 (1 point)",
        "4.2 check 4.2 (3 points)",
        "4.2 check 4.2 (point 2 of 3)",
        "4.2 check 4.2 (point 3 of 3)",
    ]
    assert {t["status"] for t in doc["tests"]} == {"pass", "fail"}  # "error" would hide the name
    assert doc["tests"][1]["duration"] == 1250


def test_classroom_failures_show_expected_observed_and_command_where_it_is_printed():
    tests = json.loads(formats.classroom(mixed()))["tests"]
    failed = tests[1]["test_code"]  # the reporter prints test_code, not message, for a failure
    assert failed.startswith("expected 5 messages, observed 3")
    assert "Reproduce: socklab check 4 --only test_4_2 --seed 1234" in failed
    assert "\x1b" not in failed and "\x00" not in failed
    assert tests[2]["test_code"] == ""  # the other points of the check say it once
    timed_out = tests[4]["test_code"]
    assert timed_out.startswith("timed out after 10 s")
    assert tests[0]["test_code"] == ""  # a passed check needs no text


def test_classroom_hidden_checks_are_named_hidden_with_no_command():
    tests = json.loads(formats.classroom(mixed()))["tests"]
    hidden = next(t for t in tests if t["name"].startswith("4.6"))
    assert hidden["name"] == "4.6 check 4.6 (hidden) (2 points)"
    assert "Reproduce" not in hidden["test_code"] and "--only" not in hidden["test_code"]
    assert classroom_format.HIDDEN_NOTE in hidden["test_code"]


def test_classroom_partial_points_never_leak_into_scores():
    result = lab("failed", [check("4.1", "passed", 2.0, points=0.5), check("4.2", "failed", 3.0, points=1.5)])
    doc = json.loads(formats.classroom(result))
    assert [t["score"] for t in doc["tests"]] == [1, 1, 0, 0, 0]


# The reporter's arithmetic, as classroom-resources/autograding-grading-reporter computes it
# (dist/main.js at d13b5912, the bundle @v1 runs). JavaScript numbers are IEEE doubles, as
# Python floats are, and + / * round the same way, so these give the numbers it prints.


def reporter_table(runners: list[dict]) -> tuple[list[float], float]:
    """getTestScore: passed / tests.length * (max_score || 0), a row per runner; AggregateResults:
    the "Total:" row adds the rows up in order."""
    rows = [
        sum(t["status"] == "pass" for t in r["tests"]) / len(r["tests"]) * (r["max_score"] or 0)
        for r in runners
    ]
    total = 0
    for row in rows:
        total += row
    return rows, total


def reporter_annotation(runners: list[dict]) -> tuple[float, float]:
    """NotifyClassroom: over runners with a max_score, the scores of the tests, one by one."""
    points, possible = 0, 0
    for runner in runners:
        if not runner["max_score"]:
            continue
        possible += runner["max_score"]
        for test in runner["tests"]:
            points += test["score"]
    return points, possible


def reporter_env(outputs: dict[str, str]) -> list[dict]:
    """main.js: runners split on ",", each from process.env[`${runner.trim().toUpperCase()}_RESULTS`],
    base64 to JSON; the runners input must match the pattern its error handler tests."""
    env = {f"{name.strip().upper()}_RESULTS": value for name, value in outputs.items()}
    runners_input = ",".join(outputs)
    assert re.fullmatch(r"([a-zA-Z0-9]+,)*[a-zA-Z0-9]+", runners_input)
    return [
        json.loads(base64.b64decode(env[f"{r.strip().upper()}_RESULTS"]).decode("utf-8"))
        for r in runners_input.split(",")
    ]


def weighted_lab(weights: list[int], passed: list[bool]) -> LabResult:
    checks = [
        check(f"3.{i + 1}", "passed" if ok else "failed", float(w))
        for i, (w, ok) in enumerate(zip(weights, passed, strict=True))
    ]
    return lab("passed" if all(passed) else "failed", checks, name="03-handshake")


@pytest.mark.parametrize("points", range(1, 61))
def test_runner_sizes_make_the_reporters_division_exact(points):
    sizes = classroom_format.runner_sizes(points)
    assert sum(sizes) == points
    for size in sizes:
        assert all(k / size * size == k for k in range(size + 1))
    ids = classroom_format.runners(3, points)
    assert len(ids) == len(sizes) and ids[0] == "lab3"


def test_a_single_runner_would_print_wrong_points():
    # Why runners are cut: lab 3's 22 points with 15 earned, in one runner.
    assert 15 / 22 * 22 != 15
    assert classroom_format.runner_sizes(22) == [21, 1]
    assert classroom_format.runners(3, 22) == ["lab3", "lab3part2"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 3), st.booleans()), min_size=1, max_size=30))
def test_reporter_table_and_annotation_equal_socklabs_weighted_score(checks):
    weights, passed = [w for w, _ in checks], [ok for _, ok in checks]
    result = weighted_lab(weights, passed)
    runners = reporter_env(classroom_format.outputs(result, 3, sum(weights)))
    rows, total = reporter_table(runners)
    points, possible = reporter_annotation(runners)
    score = sum(w for w, ok in checks if ok)
    assert total == points == score == feedback.score(result)
    assert possible == sum(weights) == result.max_score
    assert all(row == int(row) for row in rows)  # no 14.999999999999998 in a row either
    for runner in runners:
        assert runner["status"] == ("pass" if all(t["status"] == "pass" for t in runner["tests"]) else "fail")


def test_a_platform_error_fills_every_runner_and_reads_as_the_platforms():
    result = lab("error", [], name="03-handshake", message=PLATFORM_MESSAGE)
    runners = reporter_env(classroom_format.outputs(result, 3, 22))
    assert len(runners) == 2
    assert reporter_table(runners)[1] == 0 and reporter_annotation(runners) == (0, 22)
    for runner in runners:
        assert runner["status"] == "error"
        [test] = runner["tests"]
        assert test["status"] == "error"
        assert "not your fault" in test["message"] and "socklab doctor" in test["message"]
        assert PLATFORM_MESSAGE in test["message"]


def test_checks_that_do_not_add_up_to_the_declared_points_are_a_platform_error():
    runners = reporter_env(classroom_format.outputs(weighted_lab([1, 2], [True, True]), 3, 22))
    assert all(r["status"] == "error" for r in runners)
    assert "lab.toml declares 22" in runners[0]["tests"][0]["message"]


# --- JUnit XML ----------------------------------------------------------------


def parse(text: str) -> ET.Element:
    assert text.isascii()
    return ET.fromstring(text.encode("ascii"))


def cases(suite: ET.Element) -> dict[str, ET.Element]:
    return {case.get("name", ""): case for case in suite.findall("testcase")}


def properties(element: ET.Element) -> dict[str, str]:
    return {p.get("name", ""): p.get("value", "") for p in element.findall("properties/property")}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("options", [FormatOptions(), WITHHOLD], ids=["all", "withheld"])
def test_junit_is_valid_against_the_jenkins_ant_schema(kind, options):
    schema = xmlschema.XMLSchema(SCHEMAS / "junit-10.xsd")
    schema.validate(formats.junit(KINDS[kind](), options))


def test_junit_has_a_suite_per_lab_and_a_case_per_check():
    root = parse(formats.junit([passing(), mixed()]))
    suites = root.findall("testsuite")
    assert root.tag == "testsuites"
    assert [s.get("name") for s in suites] == ["01-tcp-echo", "04-framing"]
    assert [s.get("tests") for s in suites] == ["2", "7"]
    assert root.get("tests") == "9" and root.get("failures") == "3"
    assert root.get("errors") == "1" and suites[1].get("skipped") == "1"
    assert float(root.get("time")) == 25.0
    for suite in suites:
        assert {case.get("classname") for case in suite.iter("testcase")} == {suite.get("name")}


def test_junit_cases_carry_outcome_evidence_time_and_points():
    suite = parse(formats.junit(mixed())).find("testsuite")
    assert properties(suite)["score"] == "3" and properties(suite)["seed"] == "1234"
    assert suite.get("timestamp") == "2025-01-01T10:00:00Z"
    by_name = cases(suite)
    # GitLab and Jenkins show the name: the check's number and title, not its pytest id
    assert list(by_name) == [f"4.{i} check 4.{i}" for i in range(1, 6)] + [
        "4.6 check 4.6 (hidden)",
        "4.7 check 4.7 (hidden)",
    ]
    passed = by_name["4.1 check 4.1"]
    assert [child.tag for child in passed] == ["system-out"]
    assert passed.find("system-out").text == "1 of 1 points\ncheck: test_4_1"
    assert float(by_name["4.2 check 4.2"].get("time")) == 1.25
    assert by_name["4.2 check 4.2"].find("system-out").text == "0 of 3 points\ncheck: test_4_2"
    # junit-10.xsd allows no properties in a testcase: the suite holds each check's points
    assert {k: v for k, v in properties(suite).items() if k.startswith("check.4.2.")} == {
        "check.4.2.id": "test_4_2",
        "check.4.2.points": "0",
        "check.4.2.max_points": "3",
        "check.4.2.hidden": "false",
    }
    failure = by_name["4.2 check 4.2"].find("failure")
    assert failure.get("message") == "expected 5 messages, observed 3"
    assert "<html> caf\u00e9 \u2192 done" in failure.text
    assert "\x00" not in failure.text and "\x1b" not in failure.text
    assert "Reproduce: socklab check 4" in failure.text
    timeout = by_name["4.3 check 4.3"].find("failure")
    assert timeout.get("type") == "timeout" and timeout.get("message") == "timed out after 10 s"
    assert by_name["4.4 check 4.4"].find("error") is not None
    assert by_name["4.5 check 4.5"].find("skipped") is not None
    assert properties(suite)["check.4.7.hidden"] == "true"
    assert properties(suite)["check.4.7.points"] == "2"


def test_junit_platform_error_is_an_error_element():
    suite = parse(formats.junit(platform_error())).find("testsuite")
    error = cases(suite)["grading platform"].find("error")
    assert error.get("type") == "platform"
    assert "not the student's fault" in error.get("message")
    assert PLATFORM_MESSAGE in error.get("message") and "not your fault" in error.text
    assert suite.get("errors") == "1" and properties(suite)["status"] == "error"


# --- PrairieLearn -------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_prairielearn_matches_schema(kind):
    validate(formats.prairielearn(KINDS[kind]()), "prairielearn")


def test_prairielearn_score_is_a_fraction_of_all_or_nothing_points():
    doc = json.loads(formats.prairielearn(mixed()))
    assert doc["gradable"] is True
    assert doc["score"] == pytest.approx(3.0 / 12.0)
    assert [t["points"] for t in doc["tests"]] == [1.0, 0, 0, 0, 0, 0, 2.0]
    assert doc["tests"][2]["message"] == "timed out after 10 s"
    assert json.loads(formats.prairielearn(passing()))["score"] == 1.0


def test_prairielearn_platform_error_is_not_gradable():
    doc = validate(formats.prairielearn(platform_error()), "prairielearn")
    assert doc["gradable"] is False
    assert "not your fault" in doc["message"]
    assert PLATFORM_MESSAGE in doc["format_errors"][0]


# --- socklab's own JSON and hidden checks across formats ----------------------


def test_json_is_to_dict_and_loads_back(tmp_path):
    result = mixed()
    assert json.loads(formats.socklab_json(result)) == json.loads(json.dumps(result.to_dict()))
    write(result, "json", tmp_path / "result.json")
    assert load(tmp_path / "result.json") == result
    assert len(json.loads(formats.socklab_json([passing(), result]))) == 2


def marks_hidden(fmt: str, text: str) -> bool:
    if fmt == "gradescope":
        return by_number(json.loads(text)["tests"])["4.6"]["visibility"] == "after_published"
    if fmt == "classroom":
        return "4.6 check 4.6 (hidden) (2 points)" in [t["name"] for t in json.loads(text)["tests"]]
    if fmt == "junit":
        suite = parse(text)[0]
        return properties(suite)["check.4.6.hidden"] == "true" and "4.6 check 4.6 (hidden)" in cases(suite)
    if fmt == "prairielearn":
        return json.loads(text)["tests"][5]["name"] == "4.6 check 4.6 (hidden)"
    if fmt == "summary":
        return "| 4.6 | check 4.6 *(hidden)* |" in text
    return json.loads(text)["checks"][5]["hidden"] is True


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_marks_hidden_checks(fmt):
    assert marks_hidden(fmt, FORMATS[fmt](mixed(), FormatOptions()))
    assert marks_hidden(fmt, FORMATS[fmt](mixed(), WITHHOLD))


def readable(fmt: str, text: str) -> str:
    """The text a reader sees: the summary's Markdown escapes are HTML references."""
    return html.unescape(text) if fmt == "summary" else text


@pytest.mark.parametrize("fmt", FORMATS)
def test_withheld_feedback_reaches_no_format(fmt):
    shown = readable(fmt, FORMATS[fmt](mixed(), FormatOptions()))
    withheld = readable(fmt, FORMATS[fmt](mixed(), WITHHOLD))
    assert SECRET in shown
    assert SECRET not in withheld
    assert WITHHELD in withheld
    # Public checks keep their feedback.
    assert "expected 5 messages, observed 3" in withheld


@pytest.mark.parametrize("fmt", FORMATS)
def test_platform_error_is_unmistakable_in_every_format(fmt):
    text = readable(fmt, FORMATS[fmt](platform_error(), FormatOptions()))
    assert PLATFORM_MESSAGE in text
    if fmt != "json":  # socklab's own keeps the result as it is: status "error"
        assert "not your fault" in text
    assert "not your fault" not in FORMATS[fmt](mixed(), FormatOptions())


# --- write ----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_write_writes_the_adapters_text(fmt, tmp_path):
    path = tmp_path / "out" / "results"
    write(mixed(), fmt, path, WITHHOLD)
    assert path.read_text() == FORMATS[fmt](mixed(), WITHHOLD)
    assert os.listdir(path.parent) == ["results"]


def test_unknown_format_is_an_error_naming_the_known_ones(tmp_path):
    with pytest.raises(SocklabError) as raised:
        write(mixed(), "moodle", tmp_path / "results.json")
    assert "'moodle'" in str(raised.value)
    for name in ("gradescope", "classroom", "junit", "prairielearn", "json"):
        assert name in str(raised.value)
    assert not list(tmp_path.iterdir())


def test_a_failing_adapter_leaves_the_old_file_whole(tmp_path, monkeypatch):
    path = tmp_path / "results.json"
    path.write_text("old")

    def broken(results, options):
        raise RuntimeError("adapter bug")

    monkeypatch.setitem(FORMATS, "gradescope", broken)
    with pytest.raises(RuntimeError):
        write(mixed(), "gradescope", path)
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["results.json"]


def test_a_failing_rename_leaves_no_partial_file(tmp_path, monkeypatch):
    path = tmp_path / "results.json"
    path.write_text("old")

    def refuse(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        write(mixed(), "gradescope", path)
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["results.json"]
