"""`make export-student`: nothing secret in the export, `make lab-1` there runs the
student's code with the images already built, and the CI files run exactly the
documented `make` commands, which work there."""

from __future__ import annotations

import base64
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from socklab import engine, images
from socklab import lab as labs

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("built_images")]
ROOT = labs.LABS_ROOT.parent
LAB1 = labs.find("1")
SECRET = ("solution", "hidden", "bad")


def make(cwd: Path, *args: str, env: dict | None = None, timeout: float = 600):
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, "SOCKLAB_RUNS": str(cwd / "runs"), **(env or {})},
    )


def prepare_venv(repo: Path) -> None:
    """The export's `.venv` as `make venv` would leave it, without fetching packages again:
    the export's own socklab first, then this venv's installed dependencies."""
    venv = repo / ".venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next((venv / "lib").glob("python3*/site-packages"))
    (site / "socklab-export.pth").write_text(f"{repo}\n{sysconfig.get_paths()['purelib']}\n")
    script = venv / "bin" / "socklab"
    script.write_text(f"#!{venv}/bin/python\nfrom socklab.cli import run\nrun()\n")
    script.chmod(0o755)
    (venv / "bin" / ".installed").touch()  # newer than the copied pyproject.toml


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    repo = tmp_path_factory.mktemp("class") / "template"
    run = make(ROOT, "export-student", f"DIR={repo}", "LABS=1")
    assert run.returncode == 0, run.stdout + run.stderr
    prepare_venv(repo)
    # -P: not the current folder first, only the venv's paths
    where = subprocess.run(
        [repo / ".venv/bin/python", "-P", "-c", "import socklab; print(socklab.__file__)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert where.startswith(str(repo / "socklab")), where
    return repo


def exported_files(repo: Path) -> list[Path]:
    return [
        p
        for p in repo.rglob("*")
        if p.is_file() and not {".venv", "runs", "grades"} & set(p.relative_to(repo).parts)
    ]


def test_nothing_secret_is_exported(export):
    files = exported_files(export)
    assert not [p for p in files if set(p.relative_to(export).parts) & set(SECRET)]
    assert not list(export.rglob("LEAD-INSTRUCTIONS.md"))
    contents = {p.read_bytes() for p in files}
    hidden_names = []
    for lab_dir in labs.folders():
        for secret in SECRET:
            for path in (lab_dir / secret).rglob("*"):
                if path.is_file() and "__pycache__" not in path.parts:
                    assert path.read_bytes() not in contents, f"{path} is in the export"
                    if secret == "hidden":
                        hidden_names += re.findall(r"def (test_\w+)", path.read_text())
    assert hidden_names  # lab 1 has hidden checks, and none of them is named in the export
    text = "\n".join(p.read_text(errors="replace") for p in files)
    assert not [name for name in hidden_names if name in text]
    for part in ("README.md", "lab.toml", "starter/server.py", "checker/test_echo.py"):
        assert (export / "labs" / LAB1.name / part).is_file()


def test_the_export_has_the_same_image_inputs(export):
    probe = "from socklab import images; print([images.content_hash(s, 'r') for s in images.SPECS])"
    theirs = subprocess.run(
        [export / ".venv/bin/python", "-P", "-c", probe], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert theirs == str([images.content_hash(s, "r") for s in images.SPECS])


def _image_ids() -> list[str]:
    """The ids of the images lab 1 runs on (lab 7's browser may not be built yet)."""
    return [engine.client().images.get(images.BY_NAME[name].tag).id for name in images.for_lab(LAB1)]


@pytest.mark.slow
def test_make_lab_1_in_the_export_runs_the_starter_then_the_solution(export):
    before = _image_ids()
    starter = make(export, "lab-1")
    out = starter.stdout + starter.stderr
    # make exits 2 when its command fails; socklab's own exit (1: a check failed) is in its message
    assert starter.returncode == 2 and "Error 1" in starter.stderr, out
    assert "FAILED" in out and "server not written yet" in out
    assert "reproduce: make lab-1 CHECK=test_server_listens" in out
    public = len([c for c in LAB1.checks() if not c.hidden])
    assert f"1.{public + 1}" not in out  # no hidden check in the student's repository
    assert "building image" not in out and _image_ids() == before
    code = export / "labs" / LAB1.name / "starter"
    try:
        for name in ("server.py", "client.py"):
            shutil.copy(LAB1.solution / name, code / name)
        solved = make(export, "lab-1")
        assert solved.returncode == 0, solved.stdout + solved.stderr
        assert "PASSED" in solved.stdout and f"{LAB1.points}/{LAB1.points} points" in solved.stdout
    finally:
        for name in ("server.py", "client.py"):
            shutil.copy(LAB1.starter / name, code / name)


def documented_targets(repo: Path) -> set[str]:
    """The targets `make help` documents, lab-N standing for lab-1."""
    found = set(re.findall(r"^make (\S+)", make(repo, "help").stdout, re.M))
    return {t.replace("lab-N", "lab-1") for t in found}


def ci_commands(repo: Path) -> list[str]:
    gh = yaml.safe_load((repo / ".github/workflows/classroom.yml").read_text())
    gl = yaml.safe_load((repo / ".gitlab-ci.yml").read_text())
    runs = [s["run"] for s in gh["jobs"]["run-autograding-tests"]["steps"] if "run" in s]
    scripts = [line for job in gl.values() if isinstance(job, dict) for line in job.get("script", [])]
    return runs + scripts


def test_the_ci_files_run_only_documented_make_targets(export):
    targets = documented_targets(export)
    for command in ci_commands(export):
        if command.startswith("sudo apt-get update"):
            continue  # the runner's setup: the packages building the images needs
        words = shlex.split(command)
        if words[0] == "sudo":
            words = words[next(i for i, w in enumerate(words) if w == "make") :]
        assert words[0] == "make" and words[1] in targets, command


@pytest.mark.slow
def test_the_ci_commands_work_in_the_export(export, tmp_path):
    """Each `make` command of the CI files, run as is (sudo aside: this test is root)."""
    results = {}
    for command in ci_commands(export):
        words = shlex.split(command)
        if "make" not in words:
            continue  # the runner's setup
        words = words[words.index("make") :]
        gh_output = tmp_path / "github_output"
        gh_output.unlink(missing_ok=True)
        run = make(export, *words[1:], env={"GITHUB_OUTPUT": str(gh_output)})
        results[command] = run
        if words[1] == "images":
            assert run.returncode == 0 and "images are up to date" in run.stdout, run.stdout
            continue
        # the starter fails its checks: socklab grade exits 1, and make says so
        assert run.returncode == 2 and "Error 1" in run.stderr, run.stdout + run.stderr
        out = export / dict(w.split("=", 1) for w in words[2:])["OUT"]
        if "FORMAT=classroom" in command:
            outputs = dict(line.split("=", 1) for line in gh_output.read_text().splitlines())
            assert {"result", "lab1"} <= set(outputs), outputs.keys()  # one line each
            report = json.loads(base64.b64decode(outputs["result"], validate=True))
            assert report["status"] == "fail" and report["max_score"] == LAB1.points
            assert json.loads(out.read_text())["max_score"] == LAB1.points
        else:
            suite = ET.parse(out).getroot().find("testsuite")
            assert suite is not None and int(suite.get("failures")) > 0
    assert len(results) == 3  # images, and a grading per CI system
