"""`socklab grade-all` on this machine: K at a time, every output, a hostile submission
that does not stop the batch, and a re-run that grades nothing twice."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import pytest

from socklab import lab as labs

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("built_images")]
LAB1 = labs.find("1")

HOSTILE = '''"""Claims success, tries to kill the grader, floods its output, then dies."""
import os, signal, sys
print("PASSED  15/15 points: all checks passed", flush=True)
for pid in (os.getppid(), 1):
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError as exc:
        print("kill", pid, exc, flush=True)
sys.stdout.write("x" * 3_000_000)
raise SystemExit(3)
'''


def make_submissions(root):
    """alice: the solution; bob: the starter; carol: a known-wrong one; mallory: hostile."""
    root.mkdir()
    shutil.copytree(LAB1.solution, root / "alice")
    shutil.copytree(LAB1.starter, root / "bob")
    shutil.copytree(LAB1.solution, root / "carol")
    shutil.copy(LAB1.bad("truncates").path / "server.py", root / "carol" / "server.py")
    shutil.copytree(LAB1.solution, root / "mallory")
    (root / "mallory" / "server.py").write_text(HOSTILE)
    os.mkfifo(root / "mallory" / "pipe")  # a grader that reads every file would hang here
    for path in [root, *root.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return root


def grade_all(*args, env=None, timeout=900):
    return subprocess.run(
        [sys.executable, "-m", "socklab.cli", "grade-all", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, **(env or {})},
    )


def gradebook(out):
    with (out / "gradebook.csv").open() as f:
        return {row["student"]: row for row in csv.DictReader(f)}


def column(row: dict[str, str], check: str) -> str:
    """A check's cell in a gradebook row: its column is named "N.M test_name"."""
    (key,) = [k for k in row if k.split(" ", 1)[-1] == check]
    return row[key]


def git(*args, cwd):
    return subprocess.run(
        ["git", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "GIT_AUTHOR_NAME": "a",
            "GIT_AUTHOR_EMAIL": "a@x",
            "GIT_COMMITTER_NAME": "a",
            "GIT_COMMITTER_EMAIL": "a@x",
        },
    ).stdout.strip()


ROSTER = """identifier,github_username,github_id,name
alice@uni.edu,alice,1,Alice A
bob@uni.edu,bob,2,Bob B
20230003,carol,3,Carol C
dora@uni.edu,dora,4,Dora D
"""


@pytest.mark.slow
def test_a_batch_grades_everyone_writes_everything_and_resumes(tmp_path):
    subs, out = make_submissions(tmp_path / "subs"), tmp_path / "out"
    git("init", "-q", cwd=subs / "alice")  # alice's submission is a clone of her repository
    git("add", ".", cwd=subs / "alice")
    git("commit", "-q", "-m", "lab 1", cwd=subs / "alice")
    head = git("rev-parse", "HEAD", cwd=subs / "alice")
    env = {"SOCKLAB_RUNS": str(tmp_path / "runs")}
    run = grade_all("1", str(subs), "--jobs", "2", "--out", str(out), "--format", "gradescope,junit", env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    book = gradebook(out)
    assert sorted(book) == ["alice", "bob", "carol", "mallory"]
    everything = f"{sum(c.points for c in LAB1.checks()):g}"  # hidden checks included
    assert (book["alice"]["status"], book["alice"]["total"], book["alice"]["max"]) == (
        "passed",
        everything,
        everything,
    )
    assert (book["bob"]["status"], book["bob"]["total"]) == ("failed", "0")
    assert book["carol"]["status"] == "failed"
    assert column(book["carol"], "test_echo_one_mebibyte") == "0"
    assert column(book["carol"], "test_echo_short_message") == "1"
    # the hostile server earns nothing (its client is the solution's, and earns its points)
    assert book["mallory"]["status"] == "failed"
    assert column(book["mallory"], "test_server_listens") == "0"
    client = [c for c in LAB1.checks() if c.name.startswith("test_client_")]
    assert client and all(column(book["mallory"], c.name) == f"{c.points:g}" for c in client)
    assert book["mallory"]["total"] == f"{sum(c.points for c in client):g}"
    for student in book:
        folder = out / "students" / student
        assert {"result.json", "batch.json", "report.html", "gradescope.json", "junit.xml"} <= {
            p.name for p in folder.iterdir()
        }
        ET.parse(folder / "junit.xml")
        result = json.loads((folder / "result.json").read_text())
        assert result["lab"] == LAB1.name
        # the commit graded (alice's is a checkout), and the run's own folder kept with it
        commit = head if student == "alice" else None
        assert result["commit"] == json.loads((folder / "batch.json").read_text())["commit"] == commit
        assert result["artifacts"] == str(folder / "artifacts")
        assert (folder / "artifacts" / "checker.log").is_file()
    assert not any((tmp_path / "runs").iterdir())  # moved, not copied
    assert {p.name for p in out.iterdir()} >= {"canvas.csv", "moodle.csv", "unmatched.csv", "batch.json"}
    assert {s["folder"]: s["commit"] for s in json.loads((out / "batch.json").read_text())["students"]} == {
        "alice": head,
        "bob": None,
        "carol": None,
        "mallory": None,
    }
    page = (out / "index.html").read_text()
    assert "href='students/carol/report.html'" in page and "scores.png" in page
    assert "MiB of random bytes" in page  # among the checks most often failed
    assert (out / "scores.png").stat().st_size > 1000
    assert "grading" in run.stdout and "left" in run.stdout  # the progress bar

    # again: nothing to grade; a format asked for now is written from the stored results,
    # and a roster now names the students in the LMS files
    (tmp_path / "roster.csv").write_text(ROSTER)
    start = time.monotonic()
    again = grade_all(
        "1",
        str(subs),
        "--jobs",
        "2",
        "--out",
        str(out),
        "--format",
        "classroom",
        "--roster",
        str(tmp_path / "roster.csv"),
        "--assignment",
        "Lab 1",
        env=env,
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert "0 to grade, 4 already graded" in again.stdout
    assert time.monotonic() - start < 60
    assert all((out / "students" / s / "classroom.json").exists() for s in book)
    assert gradebook(out) == book
    said = " ".join(again.stdout.split())
    assert "no submission (1): Dora D" in said and "not on the roster (1): mallory" in said
    with (out / "canvas.csv").open() as f:
        canvas = {row["Student"]: row["Lab 1"] for row in csv.DictReader(f)}
    assert canvas == {
        "Points Possible": everything,
        "Alice A": everything,
        "Bob B": "0",
        "Carol C": book["carol"]["total"],
        "Dora D": "",
    }
    with (out / "moodle.csv").open() as f:
        assert list(csv.reader(f)) == [
            ["Email address", "Lab 1"],
            ["alice@uni.edu", everything],
            ["bob@uni.edu", "0"],
            ["dora@uni.edu", "-"],
        ]


def test_odd_folder_names_and_links_out_are_each_one_students_business(tmp_path):
    """A ``:`` (Compose's volume syntax), a name that is not UTF-8, a dot folder: graded like
    anyone. A starter linked to another student's folder, a submission linked to /etc:
    refused, named, and the rest graded; the gradebook and the summary list everyone."""
    root = tmp_path / "subs"
    root.mkdir()
    latin1 = os.fsdecode(b"Jos\xe9")
    for name in ("with:colon", latin1, ".dotted", "alice"):
        shutil.copytree(LAB1.solution, root / name)
    (root / "mallory" / "labs" / LAB1.name).mkdir(parents=True)
    (root / "mallory" / "labs" / LAB1.name / "starter").symlink_to("../../../alice")
    (root / "eve").symlink_to("/etc")
    (root / ".git").mkdir()
    for path in [root, *root.rglob("*")]:
        if not path.is_symlink():
            path.chmod(0o755 if path.is_dir() else 0o644)
    out = tmp_path / "grades"
    done = grade_all("1", str(root), "--out", str(out), "--jobs", "2")
    assert done.returncode in (0, 1), done.stdout + done.stderr
    assert "not submissions, not graded: .git (not a student)" in done.stdout
    book = gradebook(out)
    assert set(book) == {"with:colon", "Jos\\xe9", ".dotted", "alice", "mallory", "eve"}, book
    for name in ("with:colon", "Jos\\xe9", ".dotted", "alice"):
        assert book[name]["status"] == "passed", (name, book[name], done.stdout)
    for name in ("mallory", "eve"):
        assert book[name]["status"] == "failed" and book[name]["total"] == "0", book[name]
    page = (out / "index.html").read_text()
    assert "is a link to ../../../alice, outside the submission" in page
    assert "Jos\\xe9" in page


@pytest.mark.slow
def test_a_batch_on_one_reused_network_grades_as_fresh_networks_do(tmp_path):
    """--reuse-network: one job, one network for alice, bob, carol and mallory (hostile) in
    turn, reset between them; the verdicts a fresh network each gives. (Carol's truncating
    server is compared on the check meant to catch it: whether its one recv() gets one or
    several of a fast sender's 1-byte pieces depends on timing, so that of a few other checks
    may differ from one run to another, fresh or not.)"""
    subs = make_submissions(tmp_path / "subs")
    env = {"SOCKLAB_RUNS": str(tmp_path / "runs")}
    fresh = grade_all("1", str(subs), "--jobs", "2", "--out", str(tmp_path / "fresh"), env=env)
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    reused = grade_all(
        "1", str(subs), "--jobs", "1", "--reuse-network", "--out", str(tmp_path / "reused"), env=env
    )
    assert reused.returncode == 0, reused.stdout + reused.stderr
    fresh_book, reused_book = gradebook(tmp_path / "fresh"), gradebook(tmp_path / "reused")
    assert {s: r["status"] for s, r in reused_book.items()} == {s: r["status"] for s, r in fresh_book.items()}
    for student in ("alice", "bob", "mallory"):
        assert reused_book[student] == fresh_book[student]
    assert column(reused_book["carol"], "test_echo_one_mebibyte") == "0"
    for student in ("alice", "carol"):
        folder = tmp_path / "reused" / "students" / student
        result = json.loads((folder / "result.json").read_text())
        assert result["code"] == str(subs / student)  # the student's folder, not the network's copy
        assert (folder / "artifacts" / "checker.log").is_file()
    assert not any((tmp_path / "runs").glob("*/round-*")), "a round's folder was left behind"
    refused = grade_all("1", str(subs), "--reuse-network", "--hosts", "a@b", "--out", str(tmp_path / "x"))
    assert refused.returncode == 2 and "not with --hosts" in refused.stderr
