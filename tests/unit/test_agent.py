"""The agent that runs the checker's commands inside a container, run here on this machine:
each command's outcome comes back whole, timeouts kill, and a slow command holds up no other."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from socklab.checking.agent import Agent

SCRIPT = Path(__file__).resolve().parents[2] / "socklab/probes/agent.py"


@pytest.fixture
def agent():
    started = Agent("here", command=[sys.executable, str(SCRIPT)])
    yield started
    started.close()


def test_a_command_comes_back_whole(agent, tmp_path):
    out = agent.run(["sh", "-c", "echo out; echo err >&2; pwd; exit 3"], 10, str(tmp_path))
    assert (out.returncode, out.stdout, out.stderr) == (3, f"out\n{tmp_path}\n", "err\n")


def test_a_command_gets_the_environment_it_is_given(agent):
    out = agent.run(["sh", "-c", 'echo "$SOCKLAB_ARGS|$PATH"'], 10, "/", {"SOCKLAB_ARGS": '["a b"]'})
    given, path = out.stdout.strip().split("|")
    assert given == '["a b"]' and path  # added to the agent's environment, not instead of it
    assert agent.run(["sh", "-c", 'echo "${SOCKLAB_ARGS-unset}"'], 10, "/").stdout == "unset\n"


def test_killed_by_a_signal_reads_as_a_shell_says(agent):
    assert agent.run(["sh", "-c", "kill -9 $$"], 10, "/").returncode == 137


def test_a_missing_program_is_an_exit_code_not_a_crash(agent):
    out = agent.run(["no-such-program-here"], 10, "/")
    assert out.returncode == 127 and "no-such-program-here" in out.stderr
    assert agent.run(["true"], 10, "/").returncode == 0  # the agent lives on


def test_a_timeout_kills_the_command_and_its_children(agent, tmp_path):
    marker = tmp_path / "late"
    start = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):
        agent.run(["sh", "-c", f"(sleep 2; touch {marker}) & sleep 30"], 0.5, "/")
    assert time.monotonic() - start < 5
    time.sleep(2.5)
    assert not marker.exists()  # the whole process group went


def test_a_slow_command_holds_up_no_other(agent):
    slow = threading.Thread(target=agent.run, args=(["sleep", "3"], 10, "/"))
    slow.start()
    start = time.monotonic()
    assert agent.run(["echo", "quick"], 10, "/").stdout == "quick\n"
    assert time.monotonic() - start < 2
    slow.join()


def test_an_agent_that_dies_fails_what_waits_on_it(agent):
    agent.proc.kill()
    with pytest.raises((EOFError, OSError, ValueError)):
        agent.run(["sleep", "1"], 10, "/")


def test_warm_starts_agents_side_by_side_and_run_uses_them(monkeypatch, tmp_path):
    from socklab.checking import agent as agents

    started: list[str] = []
    stamps = tmp_path / "starts"

    def slow_start(container: str) -> list[str]:  # as a docker exec takes its time
        started.append(container)
        return ["sh", "-c", f'date +%s.%N >> "{stamps}"; sleep 2; exec "{sys.executable}" "{SCRIPT}"']

    monkeypatch.setattr(agents, "exec_argv", slow_start)
    agents.close_all()
    try:
        agents.warm(["a", "b"])
        assert agents.run("a", ["true"], 10, "/").returncode == 0  # waits for a's, starts no other
        assert agents.run("b", ["true"], 10, "/").returncode == 0
        begun = sorted(float(line) for line in stamps.read_text().split())
        assert len(begun) == 2 and begun[1] - begun[0] < 2  # side by side: b began before a was up
        assert sorted(started) == ["a", "b"]
    finally:
        agents.close_all()


def test_a_container_without_an_agent_is_remembered(monkeypatch):
    from socklab.checking import agent as agents

    tries: list[str] = []
    monkeypatch.setattr(agents, "exec_argv", lambda c: tries.append(c) or ["sh", "-c", "echo no"])
    agents.close_all()
    try:
        assert agents.run("router", ["true"], 10, "/") is None
        assert agents.run("router", ["true"], 10, "/") is None
        assert tries == ["router"]  # the caller goes to docker exec; no second try
    finally:
        agents.close_all()
