"""`make lab-N` cannot pass socklab's exit status through (make exits 2 for any failed
recipe), so it says which failure it was; `socklab run` keeps 0 / 1 / 2 for scripts.

Real make, real Makefile; in place of socklab a script that exits as socklab would."""

from __future__ import annotations

import shutil
import stat
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def make_lab(tmp_path: Path, status: int, *args: str) -> subprocess.CompletedProcess:
    fake = tmp_path / "socklab"
    fake.write_text(f'#!/bin/sh\necho "socklab $*"\nexit {status}\n')
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    # -o venv: take the virtualenv as made; SOCKLAB: the stand-in
    return subprocess.run(
        ["make", "-s", "-C", str(ROOT), "-o", "venv", "lab-3", f"SOCKLAB={fake}", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_all_passed_is_zero_and_quiet(tmp_path):
    done = make_lab(tmp_path, 0, "SEED=7")
    assert done.returncode == 0, done.stderr
    assert "socklab run 3 --seed 7" in done.stdout
    assert "make: lab 3" not in done.stderr


def test_a_failed_check_says_so(tmp_path):
    done = make_lab(tmp_path, 1)
    assert done.returncode == 2
    assert "make: lab 3: a check failed (socklab's exit status 1" in done.stderr
    assert "platform" not in done.stderr


def test_a_platform_failure_says_it_is_not_the_students_code(tmp_path):
    done = make_lab(tmp_path, 2)
    assert done.returncode == 2
    assert "the platform failed, not your code (socklab's exit status 2" in done.stderr
    assert "doctor" in done.stderr
