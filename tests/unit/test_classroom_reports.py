"""The gradebook CSV, the summary page, the CI files and what the student export ships."""

from __future__ import annotations

import csv
import io
import shlex
import subprocess
import sys
from pathlib import Path, PurePosixPath

import pytest
import yaml

from socklab import lab as labs
from socklab.classroom import ci, export, gradebook, summary
from socklab.grading.result import CheckResult, LabResult

LAB = labs.find("1")


def res(points: dict[str, bool], status=None, message="") -> LabResult:
    checks = [
        CheckResult(
            cid, cid.title(), num, "passed" if ok else "failed", 2 if ok else 0, 2, hidden=cid == "test_h"
        )
        for (num, cid), ok in points.items()
    ]
    return LabResult(
        lab=LAB.name,
        title="TCP echo",
        code="/c",
        message=message,
        status=status or ("passed" if all(points.values()) else "failed"),
        checks=checks,
    )


ENTRIES = [
    ("alice", res({("1.1", "test_a"): True, ("1.10", "test_j"): True, ("1.2", "test_h"): True})),
    ("bob", res({("1.1", "test_a"): False, ("1.10", "test_j"): True, ("1.2", "test_h"): False})),
    ("=cmd()", res({}, status="error", message="docker died\nmore")),
    ("dora", None),
]


def test_the_gradebook_has_a_row_per_student_and_a_column_per_check_in_order():
    rows = list(csv.reader(io.StringIO(gradebook.render(ENTRIES, 6))))
    assert rows[0] == [
        "student",
        "status",
        "total",
        "max",
        "1.1 test_a",
        "1.2 test_h (hidden)",
        "1.10 test_j",
        "message",
    ]
    assert rows[1] == ["alice", "passed", "6", "6", "2", "2", "2", ""]
    assert rows[2] == ["bob", "failed", "2", "6", "0", "0", "2", ""]
    # a cell a spreadsheet would run as a formula is defused
    assert rows[3] == ["'=cmd()", "error", "0", "6", "", "", "", "docker died"]
    assert rows[4][:4] == ["dora", "not graded", "", "6"]


def test_stats_count_statuses_and_rank_failed_checks():
    s = summary.stats(ENTRIES)
    assert s.statuses == {"passed": 1, "failed": 1, "error": 1, "not graded": 1}
    assert s.scores == [6, 2] and s.mean == 4
    assert s.failed == [("1.1", "Test_A", 1), ("1.2", "Test_H (hidden)", 1)]


def test_the_summary_page_escapes_names_and_links_each_report(tmp_path):
    entries = [*ENTRIES, ("<script>x</script>", res({("1.1", "test_a"): True}))]
    summary.write(tmp_path, "TCP echo", entries, 6)
    page = (tmp_path / "index.html").read_text()
    assert "<script>x" not in page and "&lt;script&gt;x" in page
    assert "href='students/alice/report.html'" in page
    assert "href='students/%3Cscript%3Ex%3C/script%3E/report.html'" in page
    assert (tmp_path / "scores.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _make_commands(text: str) -> list[list[str]]:
    return [shlex.split(line) for line in text.splitlines()]


def test_the_github_workflow_parses_and_reports_every_lab_to_classroom():
    doc = yaml.safe_load(ci.github([LAB]))
    assert doc["name"] == "Autograding Tests"  # GitHub Classroom's own template's names
    steps = doc["jobs"]["run-autograding-tests"]["steps"]
    grade = next(s for s in steps if s.get("id") == "lab-1")
    assert (
        grade["run"] == "make grade LAB=1 CODE=labs/01-tcp-echo/starter FORMAT=classroom "
        "OUT=grades/lab-1.json"
    )
    reporter = steps[-1]
    assert reporter["uses"].startswith("classroom-resources/autograding-grading-reporter@")
    # the reporter's runner ids are letters and digits; each reads its own step output
    assert reporter["with"]["runners"] == "lab1"
    assert reporter["env"] == {"LAB1_RESULTS": "${{ steps.lab-1.outputs.lab1 }}"}
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert upload["if"] == "always()" and upload["with"]["path"].split() == ["grades/", "runs/"]
    assert reporter["if"] == "always()" and grade["continue-on-error"] is True
    assert set(doc["on"]) == {"push", "workflow_dispatch"}


def test_the_github_workflow_is_valid_and_needs_no_variable_sudo_or_cache(tmp_path):
    workflow = tmp_path / "classroom.yml"
    workflow.write_text(ci.github([LAB]))
    # GitHub's workflow schema, vendored in check-jsonschema (actionlint's wheel downloads its binary)
    check = subprocess.run(
        [
            Path(sys.executable).parent / "check-jsonschema",
            "--builtin-schema",
            "vendor.github-workflows",
            str(workflow),
        ],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    text = "\n".join(line for line in workflow.read_text().splitlines() if not line.startswith("#"))
    assert "vars." not in text and "secrets." not in text and "sudo" not in text
    assert "cache" not in text.lower()
    steps = yaml.safe_load(text)["jobs"]["run-autograding-tests"]["steps"]
    assert {"name": "Build the images", "run": "make images"} in steps  # the pull path, as a student


def test_a_lab_the_reporter_would_round_reports_as_two_runners():
    lab3 = labs.find("3")
    doc = yaml.safe_load(ci.github([LAB, lab3]))
    reporter = doc["jobs"]["run-autograding-tests"]["steps"][-1]
    assert reporter["with"]["runners"] == "lab1,lab3,lab3part2"
    assert reporter["env"]["LAB3PART2_RESULTS"] == "${{ steps.lab-3.outputs.lab3part2 }}"


def test_the_gitlab_example_parses_and_keeps_the_junit_report():
    doc = yaml.safe_load(ci.gitlab([LAB]))
    job = doc["lab-1"]
    assert job["script"] == [
        "make grade LAB=1 CODE=labs/01-tcp-echo/starter FORMAT=junit OUT=grades/lab-1.xml"
    ]
    assert job["artifacts"]["reports"]["junit"] == "grades/lab-1.xml"
    assert job["artifacts"]["when"] == "always" and doc[".grade"]["tags"] == ["socklab"]


@pytest.mark.parametrize(
    ("path", "ships"),
    [
        ("labs/01-tcp-echo/README.md", True),
        ("labs/01-tcp-echo/README.zh-CN.md", True),
        ("labs/01-tcp-echo/lab.toml", True),
        ("labs/01-tcp-echo/starter/server.py", True),
        ("labs/01-tcp-echo/checker/test_echo.py", True),
        ("labs/01-tcp-echo/solution/server.py", False),
        ("labs/01-tcp-echo/hidden/test_hidden_echo.py", False),
        ("labs/01-tcp-echo/bad/truncates/server.py", False),
        ("labs/01-tcp-echo/solutions/asyncio/server.py", False),
        ("labs/01-tcp-echo/checker/solutions/x.py", False),
        ("labs/01-tcp-echo/checker/solution/helper.py", False),
        ("labs/04-message-framing/LEAD-INSTRUCTIONS.md", False),
        ("labs/01-tcp-echo/checker/__pycache__/x.pyc", False),
        ("socklab/cli.py", True),
        ("socklab/__pycache__/cli.cpython-311.pyc", False),
        ("images/base/packages.txt", True),
        ("Makefile", True),
        ("docs/students.md", True),
        ("docs/instructors.md", False),
        ("tests/unit/test_lab.py", False),
        ("runs/x/result.json", False),
        (".venv/bin/python", False),
    ],
)
def test_what_the_export_ships(path, ships):
    assert export.shipped(PurePosixPath(path)) is ships


def test_the_manifest_of_this_repository_has_no_secret():
    files = export.manifest(export.ROOT, [LAB])
    assert PurePosixPath("labs/01-tcp-echo/starter/server.py") in files
    assert PurePosixPath("images/host/Dockerfile") in files
    secret = {"solution", "solutions", "hidden", "bad", "tests", "runs"}
    assert not [f for f in files if set(f.parts) & secret]


def test_export_refuses_a_non_empty_folder(tmp_path):
    (tmp_path / "x").write_text("")
    with pytest.raises(Exception, match="not empty"):
        export.export(tmp_path, [LAB])
