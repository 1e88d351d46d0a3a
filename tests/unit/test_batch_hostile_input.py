"""A submissions folder is data, whatever an archive put in it: odd names, odd sizes and
links out are graded or reported for that student alone, never abort the batch, and no
student is dropped silently."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from socklab import lab as labs
from socklab.classroom import gradebook, summary
from socklab.classroom.batch import Batch, digest, skipped, submissions
from socklab.classroom.store import Record, Store
from socklab.grading.result import LabResult

LAB = labs.find("1")
LATIN1 = os.fsdecode(b"Jos\xe9")  # unzip of a Windows archive: not UTF-8


def student(root: Path, name: str | bytes) -> Path:
    folder = Path(os.fsdecode(root)) / os.fsdecode(name)
    folder.mkdir(parents=True)
    for program in ("server.py", "client.py"):
        (folder / program).write_text("# mine\n")
    return folder


def test_names_that_are_not_utf8_are_hashed_as_their_bytes(tmp_path):
    folder = student(tmp_path, "alice")
    before = digest(folder)
    (folder / os.fsdecode(b"\xff\xfe.txt")).write_bytes(b"x")
    assert digest(folder) != before
    (folder / os.fsdecode(b"\xff\xfe.txt")).rename(folder / os.fsdecode(b"\xff\xfd.txt"))
    assert digest(folder) not in (before, digest(student(tmp_path, "bob")))


def test_a_huge_sparse_file_is_hashed_in_pieces(tmp_path):
    folder = student(tmp_path, "alice")
    with (folder / "core").open("wb") as f:
        f.truncate(1 << 30)  # 1 GiB, no disk
    # VmHWM: this process image's own peak (getrusage's ru_maxrss starts from the parent's at
    # fork, and a pytest worker that ran many tests is large)
    script = (
        "import re, sys\nfrom pathlib import Path\nfrom socklab.classroom.batch import digest\n"
        "digest(Path(sys.argv[1]))\n"
        "print(re.search(r'VmHWM:\\s+(\\d+) kB', Path('/proc/self/status').read_text())[1])"
    )
    peak_kib = int(
        subprocess.run(
            [sys.executable, "-c", script, str(folder)], capture_output=True, text=True, check=True
        ).stdout
    )
    assert peak_kib < 200 * 1024, f"peak {peak_kib} KiB: the file was read whole"


def test_every_folder_is_a_student_but_tools_own_and_they_are_listed(tmp_path):
    for name in (".dotted", "with:colon", LATIN1, "plain", ".git", "__MACOSX"):
        student(tmp_path, name)
    (tmp_path / "notes.txt").write_text("not a student")
    found = [s.student for s in submissions(tmp_path, LAB)]
    assert found == sorted([".dotted", "with:colon", LATIN1, "plain"])
    assert skipped(tmp_path) == [
        ".git (not a student)",
        "__MACOSX (not a student)",
        "notes.txt (not a folder)",
    ]


def test_a_link_out_of_the_submission_is_refused_and_named(tmp_path):
    other = student(tmp_path / "subs", "bob")
    mallory = tmp_path / "subs" / "mallory"
    (mallory / "labs" / LAB.name).mkdir(parents=True)
    (mallory / "labs" / LAB.name / "starter").symlink_to(Path("../../..") / "bob")
    (tmp_path / "subs" / "eve").symlink_to("/etc")
    by_name = {s.student: s for s in submissions(tmp_path / "subs", LAB)}
    assert by_name["bob"].problem == "" and by_name["bob"].code == other
    assert f"labs/{LAB.name}/starter is a link to ../../../bob, outside" in by_name["mallory"].problem
    assert "the submission folder is a link (to /etc)" in by_name["eve"].problem


class NeverCalled:
    def start(self) -> None: ...
    def close(self) -> None: ...
    def grade(self, lab, sub, seed):
        raise AssertionError(f"{sub.student} was graded, but its tree leaves the submission")


def test_a_refused_submission_gets_its_own_result_and_the_batch_goes_on(tmp_path):
    (tmp_path / "subs").mkdir()
    (tmp_path / "subs" / "eve").symlink_to("/etc")
    student(tmp_path / "subs", LATIN1)
    subs = submissions(tmp_path / "subs", LAB)
    store = Store(tmp_path / "out")
    refused = [s for s in subs if s.problem]
    Batch(LAB, refused, store).run({"local": [NeverCalled()]})
    result, record = store.load("eve")
    assert result is not None and result.status == "failed" and "is a link" in result.message
    assert isinstance(record, Record)
    # the gradebook and the summary are written with every student, odd names included
    entries = [(s.student, store.load(s.student)[0]) for s in subs]
    table = gradebook.table(entries, 15)
    assert sorted(row[0] for row in table[1:]) == ["Jos\\xe9", "eve"]
    gradebook.write(tmp_path / "out" / "gradebook.csv", entries, 15)
    summary.write(tmp_path / "out", "t", entries, 15)
    assert "Jos\\xe9" in (tmp_path / "out" / "index.html").read_text()
    assert isinstance(result, LabResult)
