"""Watch mode (`socklab run N --watch`): one topology, many rounds, each round's verdict the
one a fresh run gives the same code and seed; Ctrl-C leaves nothing.

Each lab's session starts on one of its bad/ cases, then the student "fixes" it (the
solution's files written over it): the first round must fail the bad case's own check,
the second pass with every point. A round that inherited anything from the one before
(a process, a file in /scratch or /tmp, the engine's random streams or counters, its log)
would show there.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from socklab import engine, runner
from socklab import lab as labs
from socklab import watch as watching
from socklab.errors import LabError

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("built_images")]


def loadable(folder):
    try:
        return labs.load(folder)
    except LabError:
        return None


LABS = [lab for lab in map(loadable, labs.folders()) if lab is not None]


def public_bad(lab: labs.Lab) -> labs.BadSubmission:
    """The first bad case (by name) that a public check catches: watch mode runs those."""
    public = {c.name for c in lab.checks() if not c.hidden}
    return next(b for b in sorted(lab.bad_submissions(), key=lambda b: b.name) if b.caught_by in public)


def statuses(result) -> dict[str, str]:
    return {c.id: c.status for c in result.checks}


def describe(result) -> str:
    return f"{result.status} {result.message}\n" + "\n".join(
        f"  {c.status:8} {c.id}: {(c.message or '').splitlines()[:1]}" for c in result.checks
    )


def write_over(folder: Path, source: Path) -> None:
    """The student's edit: every file of ``source`` written over ``folder``'s."""
    for path in source.rglob("*"):
        if path.is_file() and path.name != "defect.toml":
            target = folder / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())


@pytest.mark.slow
@pytest.mark.parametrize("lab", LABS, ids=[lab.name for lab in LABS])
def test_each_round_judges_the_code_as_a_fresh_run_would(lab, tmp_path):
    bad = public_bad(lab)
    code = tmp_path / "code"
    shutil.copytree(lab.solution, code)
    write_over(code, bad.path)
    with watching.Session(lab, code) as session:
        project = session.project
        first = session.round()
        assert first.status == "failed", describe(first)
        assert statuses(first)[bad.caught_by] in ("failed", "timeout"), describe(first)
        write_over(code, lab.solution)
        second = session.round()
        assert second.status == "passed" and second.score == lab.points, describe(second)
        assert session.project == project, "the topology was rebuilt: the reset failed"
        assert (Path(second.artifacts) / "result.json").exists()
    assert not engine.client().containers.list(all=True, filters={"label": f"socklab.run={project}"})


def test_a_round_equals_a_fresh_run_check_by_check(tmp_path):
    """Lab 1, the same code and seed: the fresh run's statuses, check by check, in watch mode."""
    lab = labs.find("1")
    code = tmp_path / "code"
    shutil.copytree(lab.solution, code)
    cases = [None, *sorted(lab.bad_submissions(), key=lambda b: b.name)[:2]]
    with watching.Session(lab, code, seed=7) as session:
        for bad in cases:
            write_over(code, bad.path if bad else lab.solution)
            fresh_code = lab.solution if bad is None else labs.lay_over(lab.solution, bad.path)
            try:
                fresh = runner.run(lab, fresh_code, seed=7)
            finally:
                if bad is not None:
                    shutil.rmtree(fresh_code)
            watched = session.round()
            assert statuses(watched) == statuses(fresh), (
                bad and bad.name,
                describe(watched),
                describe(fresh),
            )
            write_over(code, lab.solution)


def test_an_edit_of_one_program_runs_again_only_the_checks_that_use_it(tmp_path):
    """Lab 1: the client edited (a known-wrong one, then fixed): the server's checks keep
    their verdict and do not run, the client's do, and the verdict is a fresh run's check
    by check; a file no program starts from makes every check run."""
    lab = labs.find("1")
    bad = lab.bad("single-recv")
    assert {p.name for p in bad.path.iterdir()} == {"client.py", "defect.toml"}
    code = tmp_path / "code"
    shutil.copytree(lab.solution, code)
    with watching.Session(lab, code, seed=3) as session:
        session.round()
        used = session.used
        assert used["test_server_listens"] == ["server"] and used[bad.caught_by] == ["client"], used
        write_over(code, bad.path)
        watched = session.round([str(code / "client.py")])
        kept = set(session.kept)
        assert kept and all("client" not in used[c] for c in kept), (kept, used)
        assert bad.caught_by not in kept
        ran = {c["id"] for c in json.loads((Path(watched.artifacts) / "checks.json").read_text())}
        assert ran == {c.id for c in watched.checks} - kept, "a kept check ran, or one did not"
        fresh_code = labs.lay_over(lab.solution, bad.path)
        try:
            fresh = runner.run(lab, fresh_code, seed=3)
        finally:
            shutil.rmtree(fresh_code)
        assert statuses(watched) == statuses(fresh), (describe(watched), describe(fresh))
        assert [c.number for c in watched.checks] == [c.number for c in fresh.checks]
        (code / "common.py").write_text("# a module a program could import\n")
        write_over(code, lab.solution)
        again = session.round([str(code / "client.py"), str(code / "common.py")])
        assert session.kept == [] and again.status == "passed", describe(again)


def owned(pid: int) -> list[str]:
    selector = {"label": [f"socklab.owner={socket.gethostname()}:{pid}"]}
    api = engine.client()
    return [c.name for c in api.containers.list(all=True, filters=selector, ignore_removed=True)] + [
        n.name for n in api.networks.list(filters=selector)
    ]


def test_socklab_run_watch_rechecks_on_save_and_ctrl_c_leaves_nothing(tmp_path):
    lab = labs.find("1")
    code = tmp_path / "code"
    shutil.copytree(lab.solution, code)
    out = tmp_path / "out.txt"
    env = {**os.environ, "SOCKLAB_RUNS": str(tmp_path / "runs"), "COLUMNS": "200"}
    with out.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "socklab.cli", "run", "1", "--watch", "--code", str(code)],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:

        def verdicts() -> int:
            return out.read_text(errors="replace").count("watching ")

        deadline = time.monotonic() + 120
        while verdicts() < 1 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
        assert verdicts() == 1, out.read_text(errors="replace")
        assert owned(proc.pid), "no topology while watching"
        server = code / "server.py"
        server.write_text(server.read_text().replace("sendall(", "send(") + "\n# edited\n")
        while verdicts() < 2 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
        text = out.read_text(errors="replace")
        assert verdicts() == 2 and "saved: server.py" in text, text
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert not owned(proc.pid), out.read_text(errors="replace")
    assert "stopped" in out.read_text(errors="replace")


LEFTOVERS = {  # what a round may leave in a container, and how the test leaves it there
    "a server-side TIME-WAIT": (
        "server",
        "student",
        """python3 -c "
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('', 7000)); s.listen()
c, _ = s.accept(); c.close()" & sleep 0.3; true""",
    ),
    "a detached process": ("client", "student", "setsid sleep 600 > /dev/null 2>&1 < /dev/null &"),
    "a file in /scratch": ("server", "student", "echo left > /scratch/state"),
    "a file in /tmp": ("client", "student", "echo left > /tmp/state"),
    "a file in /dev/shm": ("server", "student", "echo left > /dev/shm/state"),
    "root's probe left running": ("server", "0", "setsid sleep 600 > /dev/null 2>&1 < /dev/null &"),
}


def test_a_reset_leaves_nothing_a_round_left(tmp_path):
    lab = labs.find("1")
    with watching.Session(lab, lab.solution) as session:
        session.round()
        server, client = session.topo.container("server"), session.topo.container("client")
        for host, user, script in LEFTOVERS.values():
            subprocess.run(
                ["docker", "exec", "-u", user, session.topo.container(host), "sh", "-c", script],
                check=True,
                capture_output=True,
            )
        connect = "import socket; c = socket.create_connection(('server', 7000)); c.recv(1); c.close()"
        subprocess.run(["docker", "exec", "-u", "student", client, "python3", "-c", connect], check=True)
        time.sleep(0.5)
        states = subprocess.run(
            ["docker", "exec", server, "ss", "-tan", "state", "time-wait"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert ":7000" in states  # the test made what it means to see removed
        project = session.project
        session.reset()
        assert session.project == project
        for container in (server, client):

            def sh(script: str, c=container) -> str:
                return subprocess.run(
                    ["docker", "exec", c, "sh", "-c", script], capture_output=True, text=True, check=True
                ).stdout

            assert ":7000" not in sh("ss -tan state time-wait"), container
            assert sh("ls -A /scratch /tmp /dev/shm | grep -v ':$' | grep . || true") == "", container
            assert sh("ps -e -o comm= | grep -x sleep || true").split() == ["sleep"], container  # its own
