"""``make help`` and the README name every command a student or instructor runs (issue 15)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from socklab import cli

ROOT = Path(__file__).resolve().parents[2]
INTERNAL = {"help", "clean-images"}  # help itself; clean-images is told under make clean


def make_help() -> str:
    return subprocess.run(
        ["make", "-s", "-C", str(ROOT), "help"], capture_output=True, text=True, check=True
    ).stdout


def targets() -> set[str]:
    found = re.findall(r"^([a-z][a-z0-9-]*)(?:%)?:", (ROOT / "Makefile").read_text(), re.M)
    return {t.rstrip("-") for t in found} - INTERNAL


def test_make_help_names_every_target():
    text = make_help()
    missing = [t for t in sorted(targets()) if not re.search(rf"\bmake {re.escape(t)}", text)]
    assert not missing, f"make help does not name: {missing}"


def test_every_socklab_command_is_in_make_help_or_the_readme():
    commands = cli.parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    text = make_help() + (ROOT / "README.md").read_text()
    missing = [c for c in commands if not re.search(rf"\b(make|socklab) {re.escape(c)}\b", text)]
    assert not missing, f"neither make help nor the README names: {missing}"
