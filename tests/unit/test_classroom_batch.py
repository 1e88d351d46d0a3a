"""Batch grading without Docker: which students to grade, the store, and a batch whose
graders crash, fail their host or succeed (graders here are plain objects, not mocks of
the network: the real ones are exercised in tests/integration)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import threading
from dataclasses import replace

import pytest

from socklab import lab as labs
from socklab.classroom.batch import (
    Batch,
    HostFailure,
    code_folder,
    commit,
    digest,
    plan,
    stage,
    submissions,
    why_grade,
)
from socklab.classroom.store import RECORD, Record, Store
from socklab.errors import LabError
from socklab.grading.feedback import FormatOptions
from socklab.grading.result import CheckResult, LabResult

LAB = labs.find("1")


def result(status="passed", lab=LAB.name) -> LabResult:
    checks = [
        CheckResult("test_a", "A", "1.1", "passed", 2, 2),
        CheckResult(
            "test_b",
            "B",
            "1.2",
            "failed" if status == "failed" else "passed",
            0 if status == "failed" else 3,
            3,
        ),
    ]
    return LabResult(
        lab=lab,
        title="TCP echo",
        code="/c",
        status=status,
        checks=[] if status == "error" else checks,
        seed=1,
        message="docker died" if status == "error" else "",
    )


@pytest.fixture
def subs_dir(tmp_path):
    root = tmp_path / "subs"
    for name in ("alice", "bob", ".git"):
        (root / name).mkdir(parents=True)
        (root / name / "server.py").write_text(f"# {name}\n")
    return root


def test_submissions_are_the_sub_folders_hidden_ones_skipped(subs_dir):
    found = submissions(subs_dir, LAB)
    assert [s.student for s in found] == ["alice", "bob"]
    assert found[0].digest != found[1].digest


def test_no_submissions_is_a_clear_error(tmp_path):
    with pytest.raises(LabError, match="no such folder"):
        submissions(tmp_path / "nope", LAB)
    (tmp_path / "empty").mkdir()
    with pytest.raises(LabError, match="no submission folders"):
        submissions(tmp_path / "empty", LAB)


def test_a_whole_student_repository_is_graded_from_its_starter(tmp_path):
    starter = tmp_path / "repo" / "labs" / LAB.name / "starter"
    starter.mkdir(parents=True)
    (starter / "server.py").write_text("")
    assert code_folder(tmp_path / "repo", LAB) == starter
    (tmp_path / "flat").mkdir()
    (tmp_path / "flat" / "server.py").write_text("")
    assert code_folder(tmp_path / "flat", LAB) == tmp_path / "flat"


def test_the_digest_follows_content_not_links_fifos_or_caches(tmp_path):
    (tmp_path / "a.py").write_text("x")
    first = digest(tmp_path)
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "a.pyc").write_bytes(b"junk")
    assert digest(tmp_path) == first
    (tmp_path / "link").symlink_to("/etc/passwd")
    os.mkfifo(tmp_path / "fifo")  # reading it would block forever
    second = digest(tmp_path)
    assert second != first
    (tmp_path / "a.py").write_text("y")
    assert digest(tmp_path) != second


def test_why_grade_keeps_a_graded_unchanged_submission_and_regrades_the_rest(subs_dir):
    sub = submissions(subs_dir, LAB)[0]
    rec = Record(sub.student, LAB.name, sub.digest, 1, "local", "t")
    assert why_grade(sub, LAB, 1, result(), rec) is None
    assert why_grade(sub, LAB, 1, result("failed"), rec) is None
    assert why_grade(sub, LAB, 1, result(), rec, redo=True) == "--redo"
    assert why_grade(sub, LAB, 1, None, None) == "not graded yet"
    assert "changed" in why_grade(sub, LAB, 1, result(), replace(rec, digest="0"))
    assert "seed" in why_grade(sub, LAB, 2, result(), rec)
    assert "another lab" in why_grade(sub, LAB, 1, result(lab="04-x"), replace(rec, lab="04-x"))
    assert "platform" in why_grade(sub, LAB, 1, result("error"), rec)


def test_plan_reads_the_store_and_a_torn_result_is_graded_again(subs_dir, tmp_path):
    store = Store(tmp_path / "out")
    alice, bob = submissions(subs_dir, LAB)
    for sub in (alice, bob):
        store.save(result(), Record(sub.student, LAB.name, sub.digest, 1, "local", "t"), [], FormatOptions())
    assert plan([alice, bob], LAB, 1, store) == ([], [alice, bob])
    (store.folder("bob") / "result.json").write_text("{torn")
    assert plan([alice, bob], LAB, 1, store) == ([bob], [alice])
    store.forget("alice")
    assert plan([alice, bob], LAB, 1, store)[0] == [alice, bob]


def test_the_store_writes_every_format_and_the_record_last(tmp_path):
    store = Store(tmp_path)
    rec = Record("alice", LAB.name, "d", 1, "local", "t")
    store.save(
        result("failed"),
        rec,
        ["gradescope", "junit", "classroom", "prairielearn", "json", "text"],
        FormatOptions(),
    )
    folder = store.folder("alice")
    names = {p.name for p in folder.iterdir()}
    assert names == {
        "result.json",
        "batch.json",
        "report.html",
        "gradescope.json",
        "junit.xml",
        "classroom.json",
        "prairielearn.json",
        "socklab.json",
        "report.txt",
    }
    assert json.loads((folder / RECORD).read_text())["digest"] == "d"
    assert "FAILED" in (folder / "report.txt").read_text()
    assert "<title>alice: 01-tcp-echo</title>" in (folder / "report.html").read_text()
    assert store.load("alice")[0].score == 2


class Grader:
    """A slot that answers from a script: a status, a host failure, or a crash."""

    def __init__(self, script: dict[str, str], seen: list[str]) -> None:
        self.script, self.seen = script, seen

    def start(self) -> None:
        if self.script.get("@start") == "down":
            raise HostFailure("cannot connect")

    def grade(self, lab, sub, seed):
        self.seen.append(sub.student)
        action = self.script.get(sub.student, "passed")
        if action == "host":
            raise HostFailure("connection lost")
        if action == "crash":
            raise RuntimeError("a bug")
        return replace(result(action), code=str(sub.code))

    def close(self) -> None:
        pass


def run_batch(subs_dir, tmp_path, slots, seen):
    store = Store(tmp_path / "out")
    subs = submissions(subs_dir, LAB)
    done = []
    lock = threading.Lock()

    def on_done(sub, res, host):
        with lock:
            done.append((sub.student, res.status, host))

    sched = Batch(LAB, subs, store, 1, ["junit"], FormatOptions(), on_done).run(slots)
    return sched, store, sorted(done)


def test_a_crash_is_that_students_error_and_the_batch_goes_on(subs_dir, tmp_path):
    seen: list[str] = []
    slots = {"local": [Grader({"alice": "crash"}, seen), Grader({"alice": "crash"}, seen)]}
    sched, store, done = run_batch(subs_dir, tmp_path, slots, seen)
    assert done == [("alice", "error", "local"), ("bob", "passed", "local")]
    assert "internal error" in store.load("alice")[0].message
    assert sched.finished() and not sched.left()


def test_a_failed_host_hands_its_submission_to_the_other_host(subs_dir, tmp_path):
    seen: list[str] = []
    slots = {"a": [Grader({"alice": "host", "bob": "host"}, seen)], "b": [Grader({}, seen)]}
    sched, store, done = run_batch(subs_dir, tmp_path, slots, seen)
    assert [(s, st) for s, st, _ in done] == [("alice", "passed"), ("bob", "passed")]
    assert {h for *_, h in done} == {"b"} and "a" in sched.dead
    assert store.load("alice")[1].host == "b"


def test_a_host_that_cannot_connect_grades_nothing(subs_dir, tmp_path):
    seen: list[str] = []
    slots = {"a": [Grader({"@start": "down"}, seen)], "b": [Grader({}, seen)]}
    sched, _, done = run_batch(subs_dir, tmp_path, slots, seen)
    assert [h for *_, h in done] == ["b", "b"] and sched.dead == {"a": "cannot connect"}


def test_when_every_host_fails_the_rest_is_left_for_the_next_run(subs_dir, tmp_path):
    seen: list[str] = []
    slots = {"a": [Grader({"alice": "host"}, seen)]}
    sched, store, done = run_batch(subs_dir, tmp_path, slots, seen)
    assert done == [] and sorted(sched.left()) == ["alice", "bob"]
    assert store.load("alice") == (None, None)


def git(*args, cwd):
    subprocess.run(
        ["git", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        env={
            **os.environ,
            "GIT_AUTHOR_NAME": "s",
            "GIT_AUTHOR_EMAIL": "s@x",
            "GIT_COMMITTER_NAME": "s",
            "GIT_COMMITTER_EMAIL": "s@x",
        },
    )


def test_the_commit_of_a_checkout_and_none_elsewhere(tmp_path):
    repo = tmp_path / "subs" / "ann"
    repo.mkdir(parents=True)
    (repo / "server.py").write_text("print(1)\n")
    assert commit(repo) is None  # not a checkout
    git("init", "-q", cwd=tmp_path / "subs")  # the submissions folder is one: not ann's commit
    assert commit(repo) is None
    git("init", "-q", cwd=repo)
    assert commit(repo) is None  # no commit yet
    git("add", ".", cwd=repo)
    git("commit", "-q", "-m", "x", cwd=repo)
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert commit(repo) == head
    assert [s.commit for s in submissions(tmp_path / "subs", LAB)] == [head]


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give the checkout to another user")
def test_the_commit_of_another_users_checkout(tmp_path):
    repo = tmp_path / "ann"
    repo.mkdir()
    git("init", "-q", cwd=repo)
    git("commit", "-q", "--allow-empty", "-m", "x", cwd=repo)
    for path in [repo, *repo.rglob("*")]:
        os.lchown(path, 65534, 65534)
    plain = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, check=False
    )
    assert "dubious ownership" in plain.stderr  # what safe.directory is for
    assert commit(repo) is not None


class RunsGrader:
    """A local slot whose every run leaves a folder of artifacts, as runner.run does."""

    def __init__(self, runs):
        self.runs = runs

    def start(self):
        pass

    def grade(self, lab, sub, seed):
        run = self.runs / f"run-{sub.student}"
        (run / "captures").mkdir(parents=True)
        (run / "captures" / "x.pcap").write_bytes(b"pcap")
        return replace(result(), artifacts=str(run))

    def close(self):
        pass


def test_a_batch_moves_each_run_into_the_students_folder_and_records_the_commit(tmp_path):
    subs = tmp_path / "subs"
    (subs / "ann").mkdir(parents=True)
    (subs / "ann" / "server.py").write_text("print(1)\n")
    git("init", "-q", cwd=subs / "ann")
    git("add", ".", cwd=subs / "ann")
    git("commit", "-q", "-m", "x", cwd=subs / "ann")
    store = Store(tmp_path / "out")
    todo = submissions(subs, LAB)
    Batch(LAB, todo, store, 1).run({"local": [RunsGrader(tmp_path / "runs")]})
    stored, record = store.load("ann")
    assert record.commit == stored.commit == todo[0].commit and len(stored.commit) == 40
    folder = store.folder("ann") / "artifacts"
    assert stored.artifacts == str(folder.absolute())
    assert (folder / "captures" / "x.pcap").read_bytes() == b"pcap"
    assert not (tmp_path / "runs" / "run-ann").exists()
    # graded again: the new run replaces the old
    Batch(LAB, todo, store, 1).run({"local": [RunsGrader(tmp_path / "runs2")]})
    assert (folder / "captures" / "x.pcap").exists() and not (tmp_path / "runs2" / "run-ann").exists()


def test_stage_copies_a_submission_as_a_mount_would_show_it(tmp_path):
    code, folder = tmp_path / "code", tmp_path / "stage"
    (code / "pkg" / "__pycache__").mkdir(parents=True)
    (code / "server.py").write_text("print('hi')")
    (code / "server.py").chmod(0o755)
    (code / "pkg" / "util.py").write_text("x = 1")
    (code / "pkg" / "__pycache__" / "util.pyc").write_bytes(b"\0")
    (code / "alias.py").symlink_to("server.py")
    (code / "linked").symlink_to("pkg", target_is_directory=True)
    os.mkfifo(code / "pipe")
    folder.mkdir()
    (folder / "stale.py").write_text("from the last student")
    (folder / "old").mkdir()
    stage(code, folder)
    assert sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) == [
        "alias.py",
        "linked",
        "pipe",
        "pkg",
        "pkg/util.py",
        "server.py",
    ]
    assert os.readlink(folder / "alias.py") == "server.py" and (folder / "linked").is_symlink()
    assert stat.S_ISFIFO((folder / "pipe").lstat().st_mode)
    assert (folder / "server.py").stat().st_mode & 0o777 == 0o755
    assert (folder / "pkg" / "util.py").read_text() == "x = 1"
