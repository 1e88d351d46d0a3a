"""The GitHub job summary, and `socklab grade` in GitHub Actions (no Docker: the run is faked)."""

from __future__ import annotations

import base64
import dataclasses
import html
import json
import re

import pytest

from socklab import cli, runner
from socklab import lab as labs
from socklab.grading import classroom as classroom_format
from socklab.grading import formats
from socklab.grading.result import CheckResult, LabResult
from socklab.grading.summary import cell, summary

HOSTILE = "a|b `code` <script>x</script> **bold** [l](http://e.x) @bob #1 ~~s~~ \\ \x1b[31m\r\u202e"


def result(status: str = "failed", **fields) -> LabResult:
    checks = [
        CheckResult(
            id="test_a", title="Echoes one line", number="1.1", status="passed", points=1.0, max_points=1.0
        ),
        CheckResult(
            id="test_b",
            title="Echoes 1 MiB",
            number="1.2",
            status="failed",
            points=0.0,
            max_points=3.0,
            message="expected 1048576 bytes, observed 4096",
            evidence="tail",
            reproduce="make lab-1 CODE=labs/01-tcp-echo/starter CHECK=test_b",
        ),
        CheckResult(
            id="test_h",
            title="Survives a reset",
            number="1.3",
            status="timeout",
            points=0.0,
            max_points=2.0,
            message="timed out after 10 s",
            hidden=True,
            reproduce="make lab-1 CHECK=test_h",
        ),
    ]
    return LabResult(
        lab="01-tcp-echo",
        title="TCP echo",
        code="/grader/alice",
        status=status,  # type: ignore[arg-type]
        checks=checks,
        seed=7,
        **fields,
    )


def rows(text: str) -> list[list[str]]:
    """The table's rows as GitHub splits them: on every pipe that is not escaped."""
    lines = [line for line in text.splitlines() if line.startswith("| ")]
    return [[c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]] for line in lines]


def test_the_summary_is_a_table_of_checks_with_points_and_what_failed():
    text = summary(result())
    assert "**1 of 6 points**" in text and "seed 7" in text
    table = rows(text)
    assert table[0] == ["#", "Check", "Status", "Points", "Expected / observed"]
    assert table[1] == ["1.1", "Echoes one line", "✅ passed", "1 / 1", ""]
    number, title, status, points, details = table[2]
    assert (number, title, status, points) == ("1.2", "Echoes 1 MiB", "❌ failed", "0 / 3")
    assert html.unescape(details).startswith("expected 1048576 bytes, observed 4096<br>")
    assert "make lab-1 CODE=labs/01-tcp-echo/starter CHECK=test_b" in html.unescape(details)


def test_hidden_checks_are_named_hidden_with_no_command():
    hidden = rows(summary(result()))[3]
    assert hidden[1] == "Survives a reset *(hidden)*" and hidden[2] == "⏱️ timed out"
    assert "CHECK=test_h" not in hidden[4] and "runs only when your work is graded" in hidden[4]


def test_a_platform_error_says_so_with_the_doctors_advice():
    text = summary(
        LabResult(
            lab="01-tcp-echo", title="TCP echo", code=".", status="error", message="docker: no such image"
        )
    )
    assert "Grading platform error: not your fault" in text
    assert "socklab doctor" in html.unescape(text) and "no such image" in text
    assert "| # |" not in text


def test_student_text_cannot_break_the_table_or_drive_markdown():
    escaped = cell(HOSTILE + "\nsecond line")
    assert escaped.count("<br>") == 1
    lines = escaped.replace("<br>", "")
    assert "|" not in lines.replace("&#124;", "")
    for raw in ("`", "<", ">", "*", "[", "]", "@", " #1", "~", "\\", "\x1b", "\r", "\u202e", "\n"):
        assert raw not in lines
    assert "␛" in lines and "␍" in lines  # visible, not acted on
    assert "\\u202e" in html.unescape(lines)
    # and it reads as it was printed, once GitHub has decoded the references
    assert html.unescape(escaped).startswith("a|b `code` <script>x</script> **bold**")


def test_a_hostile_title_and_message_stay_in_their_cells():
    lab = result()
    lab.checks[1].title = HOSTILE
    lab.checks[1].message = HOSTILE + "\n| x | y |"
    table = rows(summary(lab))
    assert all(len(row) == 5 for row in table)


def test_a_long_line_is_cut():
    assert "more characters" in cell("x" * 1000)


def fake_run(monkeypatch, lab_result: LabResult):
    calls = {}

    def run(lab, code, **kwargs):
        calls.update(kwargs, code=code)
        return lab_result

    monkeypatch.setattr(runner, "run", run)
    return calls


def test_grade_with_out_prints_a_short_summary_and_writes_the_file(tmp_path, monkeypatch, capsys):
    fake_run(monkeypatch, result())
    out = tmp_path / "grades" / "lab1.json"
    assert cli.main(["grade", "1", str(tmp_path), "--format", "classroom", "--out", str(out)]) == 1
    printed = capsys.readouterr().out
    assert "TCP echo (01-tcp-echo)" in printed and "1 of 6 points" in printed
    assert f"wrote {out}" in printed
    assert json.loads(out.read_text())["max_score"] == 6


def test_grade_gives_the_student_a_command_relative_to_their_repository(tmp_path, monkeypatch):
    (tmp_path / "labs" / "code").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    calls = fake_run(monkeypatch, result())
    cli.main(
        ["grade", "1", str(tmp_path / "labs" / "code"), "--format", "json", "--out", str(tmp_path / "r.json")]
    )
    assert calls["reproduce"] == "make lab-1 CODE=labs/code"
    outside = tmp_path.parent
    cli.main(["grade", "1", str(outside), "--format", "json", "--out", str(tmp_path / "r.json")])
    assert calls["reproduce"] == "make lab-1 CODE=."


def test_grade_in_github_actions_writes_every_runner_and_the_job_summary(tmp_path, monkeypatch):
    gh_output, gh_summary = tmp_path / "output", tmp_path / "summary"
    gh_output.write_text("")
    monkeypatch.setenv("GITHUB_OUTPUT", str(gh_output))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(gh_summary))
    # lab 3 declares 22 points: two runners; a platform error must still fill both
    monkeypatch.setattr(
        runner,
        "run",
        lambda *a, **k: LabResult(
            lab="03-handshake", title="Handshake", code=".", status="error", message="build failed"
        ),
    )
    assert (
        cli.main(["grade", "3", str(tmp_path), "--format", "classroom", "--out", str(tmp_path / "lab3.json")])
        == 2
    )
    outputs = dict(line.split("=", 1) for line in gh_output.read_text().splitlines())
    assert set(outputs) == {"result", "lab3", "lab3part2"}
    for name in ("lab3", "lab3part2"):
        doc = json.loads(base64.b64decode(outputs[name]))
        assert doc["status"] == "error" and "socklab doctor" in doc["tests"][0]["message"]
    assert "Grading platform error" in gh_summary.read_text()


def test_summary_is_a_format_of_grade(tmp_path, monkeypatch, capsys):
    fake_run(monkeypatch, result())
    assert "summary" in formats.FORMATS
    cli.main(["grade", "1", str(tmp_path), "--format", "summary"])
    assert "| 1.2 | Echoes 1 MiB | ❌ failed | 0 / 3 |" in capsys.readouterr().out


@pytest.fixture(autouse=True)
def _no_github(monkeypatch):
    for name in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"):
        monkeypatch.delenv(name, raising=False)


def test_a_students_copy_without_hidden_checks_grades_its_public_points(tmp_path):
    lab1 = labs.find("1")
    assert lab1.hidden.is_dir() and lab1.graded_points == lab1.points + lab1.hidden_points
    assert dataclasses.replace(lab1, path=tmp_path).graded_points == lab1.points


def test_every_labs_runner_ids_are_what_the_reporter_accepts():
    ids = [
        r
        for lab in labs.all_labs()
        for points in {lab.points, lab.graded_points}
        for r in classroom_format.runners(lab.number, points)
    ]
    assert re.fullmatch(r"([a-zA-Z0-9]+,)*[a-zA-Z0-9]+", ",".join(ids))
