"""The parts of remote grading that need no SSH: what is uploaded, what a host must match,
and how its result is brought back to the submission's own paths."""

from __future__ import annotations

import shutil
import tarfile
from dataclasses import replace

from socklab import cli
from socklab import lab as labs
from socklab.classroom import hosts
from socklab.grading.result import CheckResult, LabResult

LAB = labs.find("1")


def test_the_upload_is_one_code_folder_links_kept_caches_left_out(tmp_path):
    (tmp_path / "server.py").write_text("print(1)\n")
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "server.pyc").write_bytes(b"x")
    (tmp_path / "secret").symlink_to("/etc/shadow")
    with tarfile.open(fileobj=hosts.code_tarball(tmp_path), mode="r:gz") as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert set(members) == {"code", "code/server.py", "code/secret"}
    assert members["code/secret"].issym() and members["code/secret"].linkname == "/etc/shadow"


def test_the_lab_digest_covers_the_hidden_checks(tmp_path):
    assert hosts.lab_digest(LAB) == hosts.lab_digest(labs.find("01-tcp-echo"))
    copy = tmp_path / LAB.name
    shutil.copytree(LAB.path, copy)
    assert hosts.lab_digest(labs.load(copy)) == hosts.lab_digest(LAB)
    (copy / "hidden" / "test_hidden_echo.py").write_text("# changed\n")
    assert hosts.lab_digest(labs.load(copy)) != hosts.lab_digest(LAB)


def test_a_remote_result_points_at_the_local_submission(tmp_path):
    remote = "/tmp/socklab-grade-abc/code"
    check = CheckResult(
        "test_a", "A", "1.1", "failed", 0, 1, reproduce=f"make lab-1 CODE={remote} CHECK=test_a"
    )
    result = LabResult(lab=LAB.name, title="", code=remote, status="failed", checks=[check])
    local = tmp_path / "bob smith"
    out = hosts._localized(replace(result, checks=[replace(check)]), remote, local)
    assert out.code == str(local)
    assert out.checks[0].reproduce == f"make lab-1 CODE='{local}' CHECK=test_a"


def test_the_host_side_command_prints_the_digest(capsys):
    assert hosts.main(["lab-digest", "1"]) == 0
    assert capsys.readouterr().out.strip() == hosts.lab_digest(LAB)
    assert hosts.main(["nope"]) == 2


def test_a_host_named_twice_is_refused(capsys, tmp_path):
    (tmp_path / "s" / "x").mkdir(parents=True)
    assert (
        cli.main(["grade-all", "1", str(tmp_path / "s"), "--hosts", "a,b,a", "--out", str(tmp_path / "o")])
        == 2
    )
    assert "names a host twice" in capsys.readouterr().err
