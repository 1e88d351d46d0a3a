"""The code stays clean: ruff's rules and mypy's types (pyproject.toml), as `make lint` checks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *argv], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
    )


def test_ruff_finds_nothing():
    out = run("ruff", "check", "socklab", "tests", "labs")
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_code_is_formatted():
    out = run("ruff", "format", "--check", "socklab", "tests")
    assert out.returncode == 0, out.stdout + out.stderr


def test_mypy_finds_nothing(tmp_path):
    out = run("mypy", "--cache-dir", str(tmp_path), "socklab")
    assert out.returncode == 0, out.stdout + out.stderr
