"""`socklab grade`: hidden checks run, every format is written, and a result is written
even when the platform fails."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema

from socklab import lab as labs
from socklab.grading.feedback import WITHHELD

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("built_images")]
LAB1 = labs.find("1")
JUNIT_XSD = Path(__file__).parents[1] / "unit" / "schemas" / "junit-10.xsd"


def grade(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "socklab.cli", "grade", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=300,
        check=False,
    )


def test_grading_the_solution_runs_the_hidden_checks_too(tmp_path):
    out = tmp_path / "report.xml"
    run = grade("1", str(LAB1.solution), "--format", "junit", "--out", str(out))
    assert run.returncode == 0, run.stdout + run.stderr
    xmlschema.XMLSchema(JUNIT_XSD).validate(str(out))
    suite = ET.parse(out).getroot().find("testsuite")
    cases = list(suite.iter("testcase"))
    checks = LAB1.checks()
    assert len(cases) == len(checks)  # the public checks and the hidden ones
    assert suite.get("failures") == "0" and suite.get("errors") == "0"
    hidden = [
        p
        for p in suite.iter("property")
        if p.get("name", "").endswith(".hidden") and p.get("value") == "true"
    ]
    assert len(hidden) == sum(c.get("name").endswith("(hidden)") for c in cases)
    assert len(hidden) == sum(c.hidden for c in checks) >= 1


def test_hidden_feedback_can_be_withheld(tmp_path):
    code = labs.lay_over(LAB1.solution, LAB1.bad("truncates").path)
    out = tmp_path / "results.json"
    run = grade("1", str(code), "--format", "gradescope", "--out", str(out), "--withhold-hidden")
    assert run.returncode == 1, run.stdout + run.stderr
    tests = json.loads(out.read_text())["tests"]
    hidden = [t for t in tests if "hidden" in t.get("tags", [])]
    assert len(hidden) == 1 and hidden[0]["status"] == "failed"
    assert hidden[0]["output"] == WITHHELD and hidden[0]["visibility"] == "after_published"
    public = [t for t in tests if t not in hidden and t["status"] == "failed"]
    assert public and all("expected" in t["output"] for t in public)


def test_a_platform_failure_still_writes_a_result(tmp_path):
    out = tmp_path / "results.json"
    run = grade(
        "1",
        str(LAB1.solution),
        "--format",
        "classroom",
        "--out",
        str(out),
        env={"DOCKER_HOST": f"unix://{tmp_path}/no-docker.sock"},
    )
    assert run.returncode == 2, run.stdout + run.stderr
    result = json.loads(out.read_text())
    assert result["status"] == "error"
    assert "no Docker engine answers" in json.dumps(result)
    assert "not your fault" in json.dumps(result)
