"""The checker's side of the agent (socklab/probes/agent.py): one long-lived ``docker exec``
per container that runs the checker's short commands there, each for the cost of a fork.

An agent that cannot start or stops answering is no error: ``run`` returns None and the
caller falls back to a ``docker exec`` of its own; the next call starts a new agent.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import threading
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import IO, Any

ARGV = ["python3", "/socklab/agent.py"]
SLACK = 10.0  # seconds an agent may take to answer beyond the command's own timeout


class Refused(Exception):
    """The container had no process to spare for the command (its pids limit)."""


def exec_argv(container: str) -> list[str]:
    """The command that starts an agent in ``container``."""
    return ["docker", "exec", "-i", "-u", "0", container, *ARGV]


class Agent:
    def __init__(self, container: str, command: list[str] | None = None) -> None:
        """``command`` starts the agent (default: ``docker exec`` of it in ``container``)."""
        self.container = container
        self.ids = itertools.count(1)
        self.pending: dict[int, Future[dict[str, Any]]] = {}
        self.lock = threading.Lock()
        self.proc = subprocess.Popen(
            command or exec_argv(container),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        stdout: IO[bytes] = self.proc.stdout  # type: ignore[assignment]
        first = stdout.readline()
        if not first.startswith(b'{"ready"'):
            self.close()
            raise OSError(f"the agent did not start in {container}: {first[:200]!r}")
        threading.Thread(target=self._read, args=(stdout,), daemon=True).start()

    def alive(self) -> bool:
        return self.proc.poll() is None

    def _read(self, stdout: IO[bytes]) -> None:
        for line in stdout:
            message = json.loads(line)
            with self.lock:
                future = self.pending.pop(message.get("id"), None)
            if future is not None:
                future.set_result(message)
        with self.lock:  # the agent is gone: nobody waits for an answer that will not come
            gone, self.pending = self.pending, {}
        for future in gone.values():
            future.set_exception(EOFError(f"the agent in {self.container} stopped"))

    def run(
        self, argv: list[str], timeout: float | None, cwd: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run ``argv``, ``env`` added to the agent's environment; raises Refused,
        subprocess.TimeoutExpired, or OSError/EOFError when the agent itself failed."""
        future: Future[dict[str, Any]] = Future()
        with self.lock:
            ident = next(self.ids)
            self.pending[ident] = future
            request = {"id": ident, "argv": argv, "timeout": timeout, "cwd": cwd, "env": env or {}}
            assert self.proc.stdin is not None
            self.proc.stdin.write(json.dumps(request).encode() + b"\n")
            self.proc.stdin.flush()
        try:
            answer = future.result(timeout=None if timeout is None else timeout + SLACK)
        except FutureTimeout:
            self.close()
            raise EOFError(f"the agent in {self.container} stopped answering") from None
        finally:
            with self.lock:
                self.pending.pop(ident, None)
        if "refused" in answer:
            raise Refused(answer["refused"])
        if answer["timed_out"]:
            raise subprocess.TimeoutExpired(argv, timeout or 0, answer["out"], answer["err"])
        return subprocess.CompletedProcess(argv, answer["rc"], answer["out"], answer["err"])

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


_agents: dict[str, Agent] = {}
_without: set[str] = set()  # containers where no agent would start: docker exec it is
_start = threading.Lock()  # guards the three tables
_starting: dict[str, threading.Lock] = {}  # one per container: agents start side by side


def _agent(container: str) -> Agent | None:
    """The container's working agent, started if need be; None where none would start."""
    with _start:
        lock = _starting.setdefault(container, threading.Lock())
    with lock:
        with _start:
            if container in _without:
                return None
            agent = _agents.get(container)
        if agent is not None and agent.alive():
            return agent
        try:
            agent = Agent(container)
        except OSError:
            with _start:
                _agents.pop(container, None)
                _without.add(container)  # the router (no /socklab), or a container out of pids
            return None
        with _start:
            _agents[container] = agent
        return agent


def warm(containers: list[str]) -> None:
    """Start these containers' agents now, side by side, in the background: a check's first
    command there then finds its agent ready (or waits for it, not for a second one)."""
    for container in containers:
        threading.Thread(target=_agent, args=(container,), daemon=True).start()


def run(
    container: str, argv: list[str], timeout: float | None, cwd: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str] | None:
    """Run ``argv`` as root in ``container`` through its agent, started on first use; None
    when there is no working agent (the caller then uses ``docker exec``). Raises Refused
    and subprocess.TimeoutExpired as the command's own outcomes."""
    agent = _agent(container)
    if agent is None:
        return None
    try:
        return agent.run(argv, timeout, cwd, env)
    except (OSError, EOFError, ValueError):  # ValueError: its pipe was closed under us
        agent.close()
        return None


def close_all() -> None:
    with _start:
        for agent in _agents.values():
            agent.close()
        _agents.clear()
        _without.clear()
        _starting.clear()
