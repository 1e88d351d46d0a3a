"""The report formats, each checked against its published schema or parsed back."""

from __future__ import annotations

import base64
import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
import xmlschema

from socklab.errors import SocklabError
from socklab.grading import formats
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
    assert "not your fault" in doc["tests"][2]["message"]
    assert doc["tests"][2]["status"] == "error"


def test_classroom_scores_are_all_or_nothing_and_add_up():
    result = mixed()
    doc = json.loads(formats.classroom(result))
    checks = {c.number: c for c in result.checks}
    assert doc["max_score"] == result.max_score == 12.0
    for test in doc["tests"]:
        number = test["name"].split()[0]
        expected = checks[number].max_points if test["status"] == "pass" else 0
        assert test["score"] == expected
    # The reporter's recorded total is the plain sum of the scores.
    assert sum(t["score"] for t in doc["tests"]) == 3.0
    statuses = [t["status"] for t in doc["tests"]]
    assert statuses == ["pass", "fail", "fail", "error", "fail", "fail", "pass"]
    assert doc["tests"][1]["duration"] == 1250
    assert doc["tests"][1]["test_code"] == "socklab check 4 --only test_4_2 --seed 1234"


def test_classroom_partial_points_never_leak_into_scores():
    result = lab(
        "failed", [check("4.1", "passed", 2.0, points=0.5), check("4.2", "failed", 3.0, points=1.5)]
    )
    doc = json.loads(formats.classroom(result))
    assert [t["score"] for t in doc["tests"]] == [2.0, 0.0]


def test_classroom_output_is_the_base64_of_the_runner_result():
    result = mixed()
    decoded = json.loads(base64.b64decode(formats.classroom_output(result)).decode("utf-8"))
    assert decoded == json.loads(formats.classroom(result))


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
        "4.6 check 4.6 (hidden)", "4.7 check 4.7 (hidden)"]
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
        return json.loads(text)["tests"][5]["name"] == "4.6 check 4.6 (hidden)"
    if fmt == "junit":
        suite = parse(text)[0]
        return properties(suite)["check.4.6.hidden"] == "true" and \
            "4.6 check 4.6 (hidden)" in cases(suite)
    if fmt == "prairielearn":
        return json.loads(text)["tests"][5]["name"] == "4.6 check 4.6 (hidden)"
    return json.loads(text)["checks"][5]["hidden"] is True


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_marks_hidden_checks(fmt):
    assert marks_hidden(fmt, FORMATS[fmt](mixed(), FormatOptions()))
    assert marks_hidden(fmt, FORMATS[fmt](mixed(), WITHHOLD))


@pytest.mark.parametrize("fmt", FORMATS)
def test_withheld_feedback_reaches_no_format(fmt):
    shown = FORMATS[fmt](mixed(), FormatOptions())
    withheld = FORMATS[fmt](mixed(), WITHHOLD)
    assert SECRET in shown
    assert SECRET not in withheld
    assert WITHHELD in withheld
    # Public checks keep their feedback.
    assert "expected 5 messages, observed 3" in withheld


@pytest.mark.parametrize("fmt", FORMATS)
def test_platform_error_is_unmistakable_in_every_format(fmt):
    text = FORMATS[fmt](platform_error(), FormatOptions())
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
