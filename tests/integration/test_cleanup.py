"""Runs never collide and never leave anything behind: parallel runs, Ctrl-C, a killed
runner, a crashing checker; `socklab clean` removes only socklab's resources."""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from socklab import engine, images, runner
from socklab import lab as labs
from socklab.cli import main

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("built_images")]
SOCKLAB = [sys.executable, "-m", "socklab.cli"]


def owned_by(pid: int) -> list[str]:
    """Names of the containers and networks a runner process owns."""
    api = engine.client()
    selector = {"label": [f"socklab.owner={socket.gethostname()}:{pid}"]}
    return [c.name for c in api.containers.list(all=True, filters=selector, ignore_removed=True)] + [
        n.name for n in api.networks.list(filters=selector)
    ]


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def start_run(tmp_path: Path, lab: str = "1") -> subprocess.Popen:
    env = {**os.environ, "SOCKLAB_RUNS": str(tmp_path)}
    return subprocess.Popen([*SOCKLAB, "run", lab], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


@pytest.mark.slow
def test_four_runs_at_once_all_pass(tmp_path):
    runs = [start_run(tmp_path / str(i)) for i in range(4)]
    outputs = [(p.wait(timeout=240), p.stdout.read().decode()) for p in runs]
    for code, out in outputs:
        assert code == 0, out
    assert all(not owned_by(p.pid) for p in runs)


# The bounds this promises: a run's containers and networks are gone 30 s after it was
# interrupted or killed, however; its processes (the checker, its probes, the Compose and
# docker commands it started) 10 s after.
RESOURCES_GONE, PROCESSES_GONE = 30, 10


def processes_of(run: Path, project: str | None) -> list[str]:
    """The command lines of processes that belong to a run: they name its artifacts
    folder (the checker) or its Compose project (compose, docker exec)."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        ours = str(run) in cmdline or (project and project in cmdline)
        if ours and "socklab.reaper" not in cmdline:  # the reaper's work is to outlive the run
            found.append(f"{proc.name}: {cmdline[:200]}")
    return found


def project_of(runs: Path) -> str | None:
    """The run's Compose project, from its artifacts folder (``...-LAB-<project suffix>``)."""
    folders = [p for p in runs.glob("*-*") if p.is_dir()]
    return f"socklab-{folders[0].name.rsplit('-', 1)[1]}" if folders else None


@pytest.mark.parametrize("when", ["network up", "checks running"])
@pytest.mark.parametrize(
    "sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=["ctrl-c", "term", "kill-9"]
)
def test_an_interrupted_run_leaves_nothing(tmp_path, sig, when):
    proc = start_run(tmp_path)
    wait_for(lambda: len(owned_by(proc.pid)) >= 5, 60, "the run's topology")
    if when == "checks running":  # the runner writes the context as it lets the checker go
        wait_for(lambda: list(tmp_path.glob("*/context.json")), 60, "the checks to begin")
        time.sleep(0.5)
    project = project_of(tmp_path)
    proc.send_signal(sig)
    proc.wait(timeout=60)
    # SIGKILL: nothing in the runner survives; its reaper cleans up
    wait_for(lambda: not processes_of(tmp_path, project), PROCESSES_GONE, "the run's processes to end")
    wait_for(lambda: not owned_by(proc.pid), RESOURCES_GONE, "the run's resources to be removed")


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(
    "sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=["ctrl-c", "term", "kill-9"]
)
def test_a_run_interrupted_at_any_moment_leaves_nothing(tmp_path, sig, seed):
    """Start-up included: the signal comes at a seeded moment in the run's first seconds
    (lab 2: its topology has the impairment engine too)."""
    moment = random.Random(f"{sig}-{seed}").uniform(0.2, 4.0)
    proc = start_run(tmp_path, "2")
    time.sleep(moment)
    project = project_of(tmp_path)
    proc.send_signal(sig)
    proc.wait(timeout=60)
    try:
        wait_for(
            lambda: not processes_of(tmp_path, project),
            PROCESSES_GONE,
            f"the run's processes to end (signal {sig} at {moment:.2f} s)",
        )
        wait_for(
            lambda: not owned_by(proc.pid),
            RESOURCES_GONE,
            f"the run's resources to be removed (signal {sig} at {moment:.2f} s)",
        )
    finally:
        print(f"signal {sig} at {moment:.2f} s (seed {seed})")


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "kill-9"])
def test_an_interrupted_batch_leaves_nothing(tmp_path, sig):
    """grade-all, two students at once, stopped while both are being checked: the same
    bounds as one run (the review saw a checker and a docker exec live on for two minutes)."""
    lab = labs.find("1")
    for student in ("alice", "bob"):
        shutil.copytree(lab.solution, tmp_path / "subs" / student)
    runs = tmp_path / "runs"
    proc = subprocess.Popen(
        [*SOCKLAB, "grade-all", "1", str(tmp_path / "subs"), "--out", str(tmp_path / "out"), "-j", "2"],
        env={**os.environ, "SOCKLAB_RUNS": str(runs)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    wait_for(lambda: len(list(runs.glob("*/context.json"))) == 2, 120, "both students' checks to begin")
    time.sleep(0.5)
    projects = [f"socklab-{folder.parent.name.rsplit('-', 1)[1]}" for folder in runs.glob("*/context.json")]
    proc.send_signal(sig)
    proc.wait(timeout=60)
    still = lambda: [line for project in projects for line in processes_of(runs, project)]  # noqa: E731
    wait_for(lambda: not still(), PROCESSES_GONE, "the batch's processes to end")
    wait_for(lambda: not owned_by(proc.pid), RESOURCES_GONE, "the batch's resources to be removed")


def test_a_crashing_checker_is_a_platform_error_and_leaves_nothing(tmp_path, monkeypatch):
    lab_dir = tmp_path / "labs" / "01-broken"
    (lab_dir / "checker").mkdir(parents=True)
    (lab_dir / "solution").mkdir()
    (lab_dir / "lab.toml").write_text('[lab]\ntitle = "broken"\npoints = 1\n')
    (lab_dir / "checker" / "test_broken.py").write_text("raise RuntimeError('checker bug')\n")
    monkeypatch.setenv("SOCKLAB_RUNS", str(tmp_path / "runs"))
    result = runner.run(labs.load(lab_dir), lab_dir / "solution")
    assert result.status == "error" and result.exit_code == 2
    assert "checker crashed" in result.message and "checker bug" in result.message
    assert (Path(result.artifacts) / "result.json").exists()
    assert not owned_by(os.getpid())


def test_clean_removes_only_socklab_resources():
    """`socklab clean` selects by label; --run narrows it to one run, so that this test
    leaves alone the other runs going on meanwhile (the selection is the same code).

    The foreign container is made from socklab's own image: it inherits the image's
    labels, which must not make it socklab's."""
    api = engine.client()
    run = f"socklab-cleantest-{os.getpid()}"
    labels = {"socklab": "1", "socklab.run": run}
    foreign_net = api.networks.create(f"not-socklab-{run}", labels={"socklab.run": run})
    foreign = api.containers.create(
        images.BY_NAME["host"].tag, name=f"not-socklab-{run}", command=["true"], labels={"socklab.run": run}
    )
    ours = api.networks.create(f"{run}-net", labels=labels)
    ours_c = api.containers.create(
        images.BY_NAME["host"].tag, name=f"{run}-c", command=["true"], labels=labels
    )
    try:
        assert main(["clean", "--run", run]) == 0
        names = {n.name for n in api.networks.list()}
        assert ours.name not in names
        assert not api.containers.list(all=True, filters={"name": ours_c.name})
        assert foreign_net.name in names  # no `socklab` label: not ours
        assert api.containers.get(foreign.name)
        assert main(["clean", "--run", run]) == 0  # safe to run twice
    finally:
        foreign.remove(force=True)
        foreign_net.remove()
