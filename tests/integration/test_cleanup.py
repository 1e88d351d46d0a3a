"""Runs never collide and never leave anything behind: parallel runs, Ctrl-C, a killed
runner, a crashing checker; `socklab clean` removes only socklab's resources."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from socklab import engine, runner
from socklab import lab as labs
from socklab.cli import main

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("built_images")]
SOCKLAB = [sys.executable, "-m", "socklab.cli"]


def owned_by(pid: int) -> list[str]:
    """Names of the containers and networks a runner process owns."""
    api = engine.client()
    selector = {"label": [f"socklab.owner={socket.gethostname()}:{pid}"]}
    return [c.name for c in api.containers.list(all=True, filters=selector, ignore_removed=True)] + \
           [n.name for n in api.networks.list(filters=selector)]


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def start_run(tmp_path: Path) -> subprocess.Popen:
    env = {**os.environ, "SOCKLAB_RUNS": str(tmp_path)}
    return subprocess.Popen([*SOCKLAB, "run", "1"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)


@pytest.mark.slow
def test_four_runs_at_once_all_pass(tmp_path):
    runs = [start_run(tmp_path / str(i)) for i in range(4)]
    outputs = [(p.wait(timeout=240), p.stdout.read().decode()) for p in runs]
    for code, out in outputs:
        assert code == 0, out
    assert all(not owned_by(p.pid) for p in runs)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL],
                         ids=["ctrl-c", "term", "kill-9"])
def test_an_interrupted_run_leaves_nothing(tmp_path, sig):
    proc = start_run(tmp_path)
    wait_for(lambda: len(owned_by(proc.pid)) >= 5, 60, "the run's topology")
    proc.send_signal(sig)
    proc.wait(timeout=60)
    # SIGKILL: nothing in the runner survives; its reaper cleans up
    wait_for(lambda: not owned_by(proc.pid), 30, "the run's resources to be removed")


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
    foreign = api.containers.create("socklab-host:latest", name=f"not-socklab-{run}",
                                    command=["true"], labels={"socklab.run": run})
    ours = api.networks.create(f"{run}-net", labels=labels)
    ours_c = api.containers.create("socklab-host:latest", name=f"{run}-c", command=["true"],
                                   labels=labels)
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
