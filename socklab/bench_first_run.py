"""The ``first-run`` benchmark: a student's first ``make lab-1``, on each image path.

A fresh copy of the kit (no .venv), images under a prefix of their own (none exist yet):
``make venv`` (the student install: its time and size), then ``make lab-1`` (the images
built, then the run). The pull path pulls $SOCKLAB_BASE_IMAGE (give one a registry here
has); the offline path points at a registry that is not there, so debootstrap builds the root.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from socklab import images, roots

ROOT = Path(__file__).resolve().parent.parent


def _nowhere() -> str:
    with socket.create_server(("127.0.0.1", 0)) as probe:  # closed again: nothing listens there
        return f"127.0.0.1:{probe.getsockname()[1]}/debian:bookworm-slim"


def _timed(argv: list[str], env: dict[str, str]) -> tuple[float, str]:
    start = time.monotonic()
    run = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    took = time.monotonic() - start
    if run.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{run.stdout[-2000:]}{run.stderr[-2000:]}")
    return took, run.stdout


def _du_mb(path: Path) -> int:
    return int(
        subprocess.run(["du", "-sm", str(path)], capture_output=True, text=True, check=True).stdout.split()[0]
    )


def _remove_images(prefix: str) -> None:
    previous = os.environ.get("SOCKLAB_IMAGE_PREFIX")
    os.environ["SOCKLAB_IMAGE_PREFIX"] = prefix
    try:
        images.remove()
    finally:
        os.environ.pop("SOCKLAB_IMAGE_PREFIX")
        if previous is not None:
            os.environ["SOCKLAB_IMAGE_PREFIX"] = previous


def one_path(path: str, base: str) -> list[tuple[str, float, str, str, str]]:
    """(name, value, unit, command, how) for one first run on one image path."""
    prefix = f"socklab-bench-{path}-"
    with tempfile.TemporaryDirectory(prefix="socklab-first-run-") as tmp:
        copy = Path(tmp) / "socklab"
        shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(".venv", ".git", "runs", "__pycache__"))
        env = {
            **os.environ,
            "SOCKLAB_IMAGE_PREFIX": prefix,
            "SOCKLAB_BASE_IMAGE": base,
            "SOCKLAB_RUNS": f"{tmp}/runs",
            "COLUMNS": "250",
        }
        env.pop("VIRTUAL_ENV", None)
        try:
            venv, _ = _timed(["make", "-C", str(copy), "venv"], env)
            lab1, out = _timed(["make", "-C", str(copy), "lab-1"], env)
        finally:
            _remove_images(prefix)
        took = "pulling" in out and "could not pull" not in out
        if (path == "pull") != took:
            raise SystemExit(f"the {path} path was not taken (SOCKLAB_BASE_IMAGE={base}):\n{out[-1500:]}")
        size = _du_mb(copy / ".venv")
    how = f"SOCKLAB_BASE_IMAGE={base}; no socklab image yet"
    if path == "pull" and base.startswith(("127.0.0.1", "localhost")):
        how += (
            " (a local registry seeded with this machine's Debian root: its layers were not "
            "downloaded again and its packages were in already, so this is a lower bound)"
        )
    return [
        (
            f"{path} path: student virtualenv size",
            size,
            "MB",
            "make venv && du -sm .venv",
            "the base install only (what make lab-N needs)",
        ),
        (
            f"{path} path: make venv (first time)",
            round(venv, 1),
            "s",
            "make venv",
            "a virtualenv, socklab and its base dependencies from the package index",
        ),
        (
            f"{path} path: first make lab-1, no images",
            round(lab1, 1),
            "s",
            "make lab-1",
            f"{how}; every image lab 1 needs built, then the run to its verdict",
        ),
    ]


def suite() -> list[tuple[str, float, str, str, str]]:
    pulled = os.environ.get("SOCKLAB_BASE_IMAGE") or roots.DEFAULT
    return one_path("pull", pulled) + one_path("offline", _nowhere())
