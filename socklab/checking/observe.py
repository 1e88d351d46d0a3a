"""What a checker observes, through the probe running inside a lab container.

Each function returns what the probe saw on the wire as a plain dict; the checks
judge it with the helpers in ``socklab.checking.expect``.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import time
from typing import Any

from socklab.checking.programs import EXEC_ATTEMPTS, STUDENT, ProgramError, docker_exec, refused, run_exec
from socklab.errors import PlatformError
from socklab.i18n import _

PROBES = "/socklab"  # socklab/probes, mounted read-only in the client and server


def probe_argv(script: str) -> list[str]:
    """The command that runs the probe SCRIPT in a container (socklab/probes/run.py).

    Its arguments travel in its environment (``probe_env``), not on its command line: any
    process in the container may read another's command line (``ps``), but root's
    environment only root. A student's program must not learn what a check is about to
    send, or what it expects back.
    """
    return ["python3", f"{PROBES}/run.py", script]


def probe_env(args: tuple[str, ...] | list[str]) -> dict[str, str]:
    return {"SOCKLAB_ARGS": json.dumps(list(args))}


def probe_exec(
    container: str,
    script: str,
    args: tuple[str, ...] | list[str],
    *,
    user: str = "0",
    detach_in: bool = False,
) -> list[str]:
    """The ``docker exec`` that runs a probe, for a caller that talks to it while it runs."""
    return docker_exec(container, probe_argv(script), user=user, detach_in=detach_in, env=probe_env(args))


def probe(
    container: str,
    *args: str,
    script: str = "probe.py",
    user: str = "0",
    workdir: str = "/scratch",
    timeout: float = 60.0,
) -> dict[str, Any]:
    """Run a probe (socklab/probes/SCRIPT) in ``container`` and return the JSON of its last
    line; a broken probe is a platform error."""
    argv, env = probe_argv(script), probe_env(args)
    shown = shlex.join(docker_exec(container, argv, user=user, workdir=workdir, env=env))
    try:
        out = run_exec(container, argv, user=user, workdir=workdir, timeout=timeout, env=env)
    except subprocess.TimeoutExpired as exc:
        raise PlatformError(
            _("the probe did not finish within {seconds} s: {command}").format(seconds=timeout, command=shown)
        ) from exc
    if out.returncode != 0:
        failed = _("the probe failed (exit {code}): {command}").format(code=out.returncode, command=shown)
        raise PlatformError(f"{failed}\n{out.stderr.strip()[-1500:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def tcp_echo(
    container: str,
    host: str,
    port: int,
    payload: str,
    *,
    chunk: int = 65536,
    chunk_seed: int | None = None,
    timeout: float = 10.0,
    stall: float = 0.0,
) -> dict[str, Any]:
    """Send ``payload`` in ``chunk``-byte sends (random sizes up to it with ``chunk_seed``);
    with ``stall``, read nothing for that many seconds first (a slow reader)."""
    seeded = ["--chunk-seed", str(chunk_seed)] if chunk_seed is not None else []
    stalled = ["--stall", str(stall)] if stall else []
    return probe(
        container,
        "tcp-echo",
        "--host",
        host,
        "--port",
        str(port),
        "--payload",
        payload,
        "--chunk",
        str(chunk),
        *seeded,
        *stalled,
        "--timeout",
        str(timeout),
        timeout=timeout + 20,
    )


def tcp_abort(container: str, host: str, port: int, send: int = 100) -> dict[str, Any]:
    return probe(container, "tcp-abort", "--host", host, "--port", str(port), "--send", str(send))


def udp_send(
    container: str, host: str, port: int, count: int, *, size: int = 100, interval_ms: float = 1.0
) -> dict[str, Any]:
    """Send ``count`` numbered, self-checking datagrams (see the probe's ``datagram``)."""
    return probe(
        container,
        "udp-send",
        "--host",
        host,
        "--port",
        str(port),
        "--count",
        str(count),
        "--size",
        str(size),
        "--interval-ms",
        str(interval_ms),
        timeout=count * interval_ms / 1000 + 30,
    )


class Background:
    """A probe command that runs in the background in a container (a server, a sink):
    started and listening on return; ``result()`` waits for its JSON."""

    def __init__(
        self, container: str, args: list[str], timeout: float, *, script: str = "probe.py", user: str = "0"
    ) -> None:
        self.timeout = timeout
        for attempt in range(EXEC_ATTEMPTS):
            self.proc = subprocess.Popen(
                probe_exec(container, script, args, user=user),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            first = self.proc.stdout.readline() if self.proc.stdout else ""
            if '"listening"' in first:
                return
            self.proc.kill()
            err = self.proc.stderr.read() if self.proc.stderr else ""
            if '"in_use"' in first:  # what holds the port can only be the code under test
                raise ProgramError(
                    _(
                        "the checker could not listen on port {port} in {container}: a program under "
                        "test holds it (the checker needs that port)"
                    ).format(port=json.loads(first)["in_use"], container=container)
                )
            if not refused(self.proc.wait(), first + err):
                raise PlatformError(_("the probe did not start: {output}").format(output=first + err))
            time.sleep(0.1 * (attempt + 1))
        raise ProgramError(
            _(
                "{container} had no process to spare for the checker: the programs "
                "under test hold every process the container may have (its pids "
                "limit)"
            ).format(container=container)
        )

    def result(self) -> dict[str, Any]:
        try:
            out, err = self.proc.communicate(timeout=self.timeout + 10)
        except subprocess.TimeoutExpired as exc:
            self.proc.kill()
            raise PlatformError(_("the probe did not finish")) from exc
        if self.proc.returncode != 0:
            raise PlatformError(_("the probe failed: {output}").format(output=err.strip()[-1500:]))
        return json.loads(out.strip().splitlines()[-1])


class Stoppable:
    """A probe command in the background that runs until ``stop()`` (a line on its stdin)
    or its own end: listening once constructed; ``stop()`` returns its JSON. ``what`` names
    it in errors, e.g. "the checker's echo server"."""

    def __init__(self, container: str, script: str, args: list[str], what: str) -> None:
        self.what = what
        self.proc = subprocess.Popen(
            probe_exec(container, script, args, detach_in=True),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        first = self.proc.stdout.readline() if self.proc.stdout else ""
        if '"listening"' not in first:
            self.proc.kill()
            output = first + self.proc.communicate()[1][-1500:]
            raise PlatformError(_("{what} did not start: {output}").format(what=what, output=output))

    def stop(self) -> dict[str, Any]:
        try:
            out, err = self.proc.communicate(input="stop\n", timeout=20)
        except subprocess.TimeoutExpired as exc:
            self.proc.kill()
            raise PlatformError(_("{what} did not stop").format(what=self.what)) from exc
        if self.proc.returncode != 0:
            raise PlatformError(
                _("{what} failed: {output}").format(what=self.what, output=err.strip()[-1500:])
            )
        return json.loads(out.strip().splitlines()[-1])


class Server(Background):
    """The probe's one-shot TCP server: answers the first client with ``reply``, once the
    client pauses (briefly, once it has sent as many bytes as ``expect``)."""

    def __init__(
        self, container: str, port: int, reply: str, timeout: float = 10.0, expect: str | None = None
    ) -> None:
        expected = ["--expect", str(len(expect.encode()))] if expect is not None else []
        super().__init__(
            container,
            ["tcp-serve", "--port", str(port), "--reply", reply, *expected, "--timeout", str(timeout)],
            timeout,
        )


def udp_sink(
    container: str, port: int, *, count: int = 0, idle: float = 1.0, timeout: float = 10.0
) -> Background:
    """A UDP receiver of numbered datagrams: what arrived, in which order, damaged or not."""
    return Background(
        container,
        [
            "udp-sink",
            "--port",
            str(port),
            "--count",
            str(count),
            "--idle",
            str(idle),
            "--timeout",
            str(timeout),
        ],
        timeout + idle,
    )


# Run as the student in a container: the student's processes and their peak memory.
_MEMORY = """
import json, os, pathlib
seen = {}
for status in pathlib.Path("/proc").glob("[0-9]*/status"):
    if int(status.parent.name) == os.getpid():
        continue
    try:
        fields = dict(line.split(":", 1) for line in status.read_text().splitlines())
    except OSError:
        continue
    if fields["Uid"].split()[0] == str(os.getuid()) and "VmHWM" in fields:
        seen[status.parent.name] = [fields["Name"].strip(), int(fields["VmHWM"].split()[0])]
print(json.dumps(seen))
"""


def _student(container: str, argv: list[str], what: str, *, check: bool = True) -> str:
    try:
        out = run_exec(container, argv, user=STUDENT, timeout=20)
    except subprocess.TimeoutExpired as exc:
        raise PlatformError(
            _("{what} in {container} did not finish within 20 s").format(what=what, container=container)
        ) from exc
    if check and out.returncode != 0:
        raise PlatformError(
            _("{what} in {container} failed: {output}").format(
                what=what, container=container, output=(out.stdout + out.stderr).strip()
            )
        )
    return out.stdout


def student_memory(container: str) -> dict[str, tuple[str, int]]:
    """The peak resident memory (VmHWM, KiB) of each of the student's processes, by pid."""
    seen = json.loads(_student(container, ["python3", "-c", _MEMORY], "reading /proc"))
    return {pid: (name, kib) for pid, (name, kib) in seen.items()}


def memory_growth(container: str, before: dict[str, tuple[str, int]]) -> tuple[int, str]:
    """The largest rise in a student process's peak memory since ``before`` (KiB, which).

    A process born since (a forked child) is measured from the largest peak before.
    """
    base = max((kib for _, kib in before.values()), default=0)
    growth = [
        (kib - before.get(pid, (name, base))[1], f"{name} (pid {pid})")
        for pid, (name, kib) in student_memory(container).items()
    ]
    return max(growth, default=(0, "no process"))


def pause_and_resume(container: str) -> None:
    """Stop and continue every student process there, as Ctrl-Z and ``fg`` do in a terminal.

    (``kill -1`` fails when a process it would signal is gone meanwhile: no matter here.)
    """
    try:
        _student(container, ["kill", "-STOP", "-1"], "stopping the student's processes", check=False)
    finally:
        _student(container, ["kill", "-CONT", "-1"], "continuing the student's processes", check=False)


def send_queue(container: str, port: int, peer_port: int) -> int | None:
    """Bytes a TCP connection from ``port`` to ``peer_port`` has queued and the peer not yet
    taken (seen with ss), or None when there is no such connection."""
    out = run_exec(
        container,
        ["ss", "-Htn", "state", "established", f"( sport = :{port} and dport = :{peer_port} )"],
        timeout=20,
    )
    fields = out.stdout.split()
    return int(fields[1]) if out.returncode == 0 and len(fields) >= 2 else None


def wait_stuck(container: str, port: int, peer_port: int, timeout: float = 10.0) -> int | None:
    """Wait until that send queue is full and not moving (the sender is blocked sending);
    return its size, or the last size seen when the time runs out."""
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        queued = send_queue(container, port, peer_port)
        if queued and queued == last:
            return queued
        last = queued
        time.sleep(0.02)
    return last
