"""Start, watch and stop the programs of the code under test inside the lab containers.

Programs run as the unprivileged ``student`` user from /scratch, started through
``/socklab/launch.py`` (nice 19, first to go when memory runs out, output capped inside
the container). Their output goes to a log on the host (``ARTIFACTS/NAME.log``) through
the attached ``docker exec``, out of the student's reach; while that ``docker exec``
runs, the program runs.
"""

from __future__ import annotations

import contextlib
import shlex
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO

from socklab import compose
from socklab.checking import agent
from socklab.checking.context import RunContext
from socklab.errors import PlatformError
from socklab.i18n import _
from socklab.lab import Lab, Program

STUDENT = "student"
OUTPUT_LIMIT = 1 << 20  # bytes of one program's output kept; the rest is counted and dropped
LAUNCH = ["python3", "/socklab/launch.py", str(OUTPUT_LIMIT - 4096), "--"]  # room for its note
ESCAPE = "\u241b".encode()  # shown for ESC: program output must not drive the reader's terminal
EXEC_ATTEMPTS = 8
KILL_SECONDS = 20  # to stop every student process in a container, however hard it fights
LISTEN_WAIT = 20.0  # s to listen: a correct asyncio server on a loaded machine may need over 10
# Every student process in a container killed, and gone, by the student (see stop.py).
KILL = ["sh", "-c", "kill -STOP -1; kill -KILL -1; kill -KILL -1; exec python3 /socklab/stop.py"]
# The container's memory limit and the kernel's count of out-of-memory kills there
# (cgroup v2, else v1).
MEMORY = " ".join(
    f"/sys/fs/cgroup/{f}"
    for f in ("memory.max", "memory/memory.limit_in_bytes", "memory.events", "memory/memory.oom_control")
)
# Its process limit and how many forks it refused for it (``max N``): read with a plain
# `cat`, which needs no fork, however full the process table is.
PIDS = [f"/sys/fs/cgroup/{f}" for f in ("pids.max", "pids.events", "pids/pids.max", "pids/pids.events")]


class ProgramError(AssertionError):
    """The code under test did not start or did not get ready: the student's to fix."""


def refused(returncode: int, output: str) -> bool:
    """Docker could not start a command in the container: it had no process to spare.

    Under a fork bomb the container sits at its pids limit, and runc then fails now and
    then to start the threads of a new ``docker exec`` (``OCI runtime exec failed``).
    """
    return returncode == 126 and "OCI runtime exec failed" in output


def run_exec(
    container: str,
    argv: list[str],
    *,
    user: str = "0",
    workdir: str = "/scratch",
    timeout: float | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """A ``docker exec`` of the checker's, run to its end; tried again while refused.

    Refused to the end is the student's failure: only the programs under test fill the
    container's process table.
    """
    for attempt in range(EXEC_ATTEMPTS):
        # Root's commands go through the container's agent: a fork there, not a docker exec.
        # Where the agent has no process to spare, a docker exec may still get in.
        with contextlib.suppress(agent.Refused):
            if user == "0" and (done := agent.run(container, argv, timeout, workdir, env)):
                return done
        out = subprocess.run(
            docker_exec(container, argv, user=user, workdir=workdir, env=env),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if not refused(out.returncode, out.stdout + out.stderr):  # docker says it on stdout
            return out
        time.sleep(0.1 * (attempt + 1))
    raise ProgramError(
        f"{container} had no process to spare for the checker "
        f"({(out.stdout + out.stderr).strip()}): the programs under test hold every "
        f"process the container may have (its pids limit; threads count too)"
    )


class Capture(threading.Thread):
    """Reads a stream to its end, keeping the first OUTPUT_LIMIT bytes (and copying them to
    ``sink`` as they come), so a program that prints gigabytes fills neither memory nor disk."""

    def __init__(self, stream: IO[bytes], sink: IO[bytes] | None = None) -> None:
        super().__init__(daemon=True)
        self.stream, self.sink = stream, sink
        self.kept = bytearray()
        self.dropped = 0

    def run(self) -> None:
        while chunk := self.stream.read1(65536):  # type: ignore[attr-defined]
            room = OUTPUT_LIMIT - len(self.kept)
            keep, self.dropped = chunk[: max(room, 0)], self.dropped + max(len(chunk) - room, 0)
            keep = keep.replace(b"\x1b", ESCAPE)
            self.kept += keep
            if self.sink is not None and keep:
                self.sink.write(keep)
                self.sink.flush()
            if self.dropped > OUTPUT_LIMIT:
                time.sleep(0.01)  # past the container's own cap: read it slowly, not at any cost
        if self.sink is not None and self.dropped:
            self.sink.write(self.note().encode())
            self.sink.flush()

    def note(self) -> str:
        return (
            f"\n[socklab: {self.dropped} more bytes of output dropped by the checker]\n"
            if self.dropped
            else ""
        )

    def text(self) -> str:
        return self.kept.decode(errors="replace") + self.note()


@dataclass
class Finished:
    argv: list[str]
    returncode: int
    stdout: str
    stderr: str
    elapsed: float
    timed_out: bool


def docker_exec(
    container: str,
    argv: list[str],
    *,
    user: str = "0",
    detach_in: bool = False,
    workdir: str = "/scratch",
    env: dict[str, str] | None = None,
) -> list[str]:
    variables = [f"--env={name}={value}" for name, value in (env or {}).items()]
    return [
        "docker",
        "exec",
        *(["-i"] if detach_in else []),
        "-u",
        user,
        "-w",
        workdir,
        *variables,
        container,
        *argv,
    ]


class Programs:
    """The lab's programs in one run: start them, ask if they live, read their logs."""

    def __init__(self, lab: Lab, ctx: RunContext) -> None:
        self.lab = lab
        self.ctx = ctx
        self.running: dict[str, subprocess.Popen[bytes]] = {}
        self.captures: dict[str, Capture] = {}
        self.starts: dict[str, int] = {}
        self.started_with: dict[str, tuple[list[str] | None, list[str] | None]] = {}  # extra, argv
        self.refused_before: dict[str, int] = {}  # forks refused on its host before it started
        self.hosts: set[str] = set()  # where the student's programs ran
        self.used: set[str] = set()  # the programs the current check asked for (see plugin)

    def log_path(self, name: str) -> Path:
        return Path(self.ctx.artifacts) / f"{name}.log"

    def program(self, name: str) -> Program:
        """A program of the lab, whose file the code under test must have."""
        self.used.add(name)
        program = self.lab.programs[name]
        if not (Path(self.ctx.code) / program.file).is_file():
            raise ProgramError(
                _("the code under test has no {file} (looked in {folder})").format(
                    file=program.file, folder=self.ctx.code
                )
            )
        return program

    def argv(self, program: Program, extra: list[str] | None = None) -> list[str]:
        return [*program.argv, *(extra or [])]

    def start(self, name: str, extra: list[str] | None = None, *, argv: list[str] | None = None) -> None:
        """Start a program in the background, its output appended to its log; ``argv``
        instead of the lab's command line (e.g. a server given another port)."""
        program = self.program(name)
        if argv is not None:
            program = replace(program, argv=tuple(argv))
        self.stop(name)
        self.started_with[name] = (extra, argv)
        self.hosts.add(program.host)
        self.refused_before[name] = self.process_limit(program.host)[1]
        self.starts[name] = self.starts.get(name, 0) + 1
        log = self.log_path(name).open("ab")
        if log.tell() and not self.log_path(name).read_bytes().endswith(b"\n"):
            log.write(b"\n")  # the last run was cut off mid-line
        log.write(f"--- start {self.starts[name]}: {shlex.join(self.argv(program, extra))}\n".encode())
        log.flush()
        proc = subprocess.Popen(
            docker_exec(
                self.ctx.container(program.host),
                [*LAUNCH, *self.argv(program, extra)],
                user=STUDENT,
                workdir="/lab/code",
            ),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        self.running[name] = proc
        self.captures[name] = Capture(proc.stdout, log)  # type: ignore[arg-type]
        self.captures[name].start()

    def start_with(self, name: str, changes: dict[str, str]) -> list[str]:
        """Start a program again with some of its arguments changed (``{"5000": "5123"}``:
        a server given another port) and wait until it listens, on the new port when its
        port was changed; the command it was started with. Stop it after: ``ensure``
        would take it for the lab's own."""
        program = self.program(name)
        argv = [changes.get(arg, arg) for arg in program.argv]
        self.start(name, argv=argv)
        listen = program.listen or program.listen_udp
        try:
            self.wait_ready(name, port=int(changes.get(str(listen), listen)) if listen else None)
        except ProgramError as exc:
            raise ProgramError(
                _("started as `{command}` (its arguments are the README's): {error}").format(
                    command=shlex.join(argv[1:]), error=exc
                )
            ) from None
        return argv

    def alive(self, name: str) -> bool:
        self.used.add(name)
        proc = self.running.get(name)
        return proc is not None and proc.poll() is None

    def ensure(self, name: str, timeout: float = LISTEN_WAIT) -> None:
        """The program running and ready: reuse it if alive, else (re)start and wait."""
        if self.alive(name):
            self.check_process_limit(name)
            return
        self.start(name)
        self.wait_ready(name, timeout)

    def wait_ready(self, name: str, timeout: float = LISTEN_WAIT, *, port: int | None = None) -> None:
        """Wait until the program listens on its port, or on ``port`` when it was started
        with another one (seen with ``ss`` in its container)."""
        program = self.lab.programs[name]
        if program.listen is None and program.listen_udp is None:
            return
        flag = "-ltn" if program.listen else "-lun"
        port = port or program.listen or program.listen_udp
        deadline = time.monotonic() + timeout
        freed = False
        while time.monotonic() < deadline:
            if not self.alive(name) and program.listen and port and not freed and self._lingering(name, port):
                freed = True  # the port was held by our own earlier runs' closed connections
                self._start_again(name, port)
                continue
            if not self.alive(name):
                code = self.running[name].returncode
                why = self.killed(program.host, code)
                exited = _("{file} exited (code {code}) before listening on port {port}").format(
                    file=program.file, code=code, port=port
                )
                raise ProgramError(exited + (_(": it was {why}").format(why=why) if why else ""))
            out = run_exec(self.ctx.container(program.host), ["ss", "-H", flag, f"sport = :{port}"])
            if out.returncode != 0:
                raise PlatformError(
                    f"ss failed in {program.host} (exit {out.returncode}): "
                    f"{(out.stdout + out.stderr).strip()}"
                )
            if out.stdout.strip():
                self.check_process_limit(name)
                return
            time.sleep(0.05)
        raise ProgramError(
            _("{file} did not listen on port {port} within {seconds:g} s").format(
                file=program.file, port=port, seconds=timeout
            )
        )

    def _lingering(self, name: str, port: int) -> bool:
        """Connections to the program's port in TIME-WAIT in its container: what the checker's
        earlier runs of the server left (a server that closes first keeps each for a minute)."""
        out = run_exec(
            self.ctx.container(self.lab.programs[name].host),
            ["ss", "-H", "-tn", "state", "time-wait", f"sport = :{port}"],
        )
        return out.returncode == 0 and bool(out.stdout.strip())

    def _start_again(self, name: str, port: int) -> None:
        """A server that could not bind its port because the checker's own restarts left it
        in TIME-WAIT: those connections destroyed, then started again. In a lab a student
        starts the server once; the README does not ask for SO_REUSEADDR, so the checker's
        restarts must not fail a server that lacks it."""
        container = self.ctx.container(self.lab.programs[name].host)
        compose.destroy_sockets(self.ctx.project, container, "state", "time-wait", f"sport = :{port}")
        with self.log_path(name).open("a") as log:
            log.write(
                f"--- port {port} was held by connections in TIME-WAIT from the checker's earlier "
                "runs of the server: they were removed, and the server is started again\n"
            )
        extra, argv = self.started_with.get(name, (None, None))
        self.start(name, extra, argv=argv)

    def run(self, name: str, extra: list[str] | None = None, *, timeout: float = 10.0) -> Finished:
        """Run a program to completion (or until ``timeout``) and return its output."""
        program = self.program(name)
        argv = self.argv(program, extra)
        self.hosts.add(program.host)
        refused_before = self.process_limit(program.host)[1]
        start = time.monotonic()
        proc = subprocess.Popen(
            docker_exec(
                self.ctx.container(program.host), [*LAUNCH, *argv], user=STUDENT, workdir="/lab/code"
            ),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
        )
        out, err = Capture(proc.stdout), Capture(proc.stderr)  # type: ignore[arg-type]
        out.start()
        err.start()
        try:
            proc.wait(timeout=timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            self.kill_all(program.host)
            proc.wait()
            timed_out = True
        out.join()
        err.join()
        why = "" if timed_out else self.killed(program.host, proc.returncode)
        limit, refused = self.process_limit(program.host)
        if refused > refused_before:  # what it left behind must not starve the checks to come
            self.kill_all(program.host)
            why = (f"{why}; " if why else "") + (
                f"stopped: it, or what it started, hit the "
                f"{program.host} container's limit of {limit} "
                f"processes (threads count too)"
            )
        finished = Finished(
            argv,
            proc.returncode,
            out.text(),
            err.text() + (f"\n[socklab: {program.file} was {why}]\n" if why else ""),
            time.monotonic() - start,
            timed_out,
        )
        with self.log_path(name).open("a") as log:
            log.write(
                f"--- run: {shlex.join(argv)} (exit {finished.returncode}"
                f"{', timed out' if timed_out else ''})\n{finished.stdout}{finished.stderr}"
            )
        return finished

    def kill_all(self, host: str) -> bool:
        """Kill every student process in a container (kill -1 as the student reaches only those)
        and wait until they are gone; True when they are.

        All are stopped first, so that none forks while the kill goes round (a fork bomb).
        Running as the student, the kill can itself be killed by a program that kills all it
        can, or refused by Docker: then it is tried again, until root sees none of the
        student's processes left or KILL_SECONDS have passed.
        """
        container = self.ctx.container(host)
        argv = docker_exec(container, KILL, user=STUDENT)
        deadline = time.monotonic() + KILL_SECONDS
        attempt = 0
        # stop.py's verdict is 0 when nothing is left; root's view confirms it.
        while (
            subprocess.run(argv, capture_output=True, check=False).returncode != 0
            or run_exec(container, ["pgrep", "-u", STUDENT]).stdout
        ):
            if time.monotonic() > deadline:
                return False
            attempt += 1
            time.sleep(min(0.05 * attempt, 0.5))
        return True

    def stop_host(self, host: str) -> None:
        """Stop the programs on ``host`` and kill whatever else of the student's runs there."""
        self.kill_all(host)
        for name in [n for n in self.running if self.lab.programs[n].host == host]:
            self.stop(name, killed=True)  # collects what the kill ended

    def process_limit(self, host: str) -> tuple[int, int]:
        """The host's process limit, and how many forks it has refused for it so far."""
        lines = run_exec(self.ctx.container(host), ["cat", *PIDS]).stdout.split("\n")
        limit = next((int(line) for line in lines if line.isdigit()), 0)
        return limit, sum(int(line.split()[1]) for line in lines if line.startswith("max "))

    def check_process_limit(self, name: str) -> None:
        """Stop the host's programs, and fail, if they hit its process limit since ``name`` started.

        A fork bomb would otherwise starve the checks that follow (and the checker's own
        commands there) until the lab's time runs out.
        """
        program = self.lab.programs[name]
        limit, refused = self.process_limit(program.host)
        if refused > self.refused_before.get(name, 0):
            self.stop_host(program.host)
            raise ProgramError(
                _(
                    "the programs in the {host} container hit its limit of {limit} processes "
                    "(threads count too) and were stopped: {file}, or what it started, kept "
                    "creating processes (a fork bomb?)"
                ).format(host=program.host, limit=limit, file=program.file)
            )

    def hit_process_limit(self) -> str:
        """Why a check failed, when a running program's host hit its process limit during it
        (its programs then stopped); else "". What the check saw then (a query refused, a
        socket gone) was only a consequence."""
        for name in list(self.running):
            try:
                self.check_process_limit(name)
            except ProgramError as exc:
                return str(exc)
        return ""

    def killed(self, host: str, returncode: int | None) -> str:
        """How a program that got a SIGKILL the checker did not send was killed, or ""."""
        if returncode not in (137, -9):
            return ""
        lines = run_exec(
            self.ctx.container(host), ["sh", "-c", f"cat {MEMORY} 2>/dev/null"]
        ).stdout.splitlines()
        if not any(line.startswith("oom_kill ") and line.split()[1] != "0" for line in lines):
            return _("killed (SIGKILL)")
        limit = next((_(" of {mib} MiB").format(mib=int(line) >> 20) for line in lines if line.isdigit()), "")
        return _(
            "killed by the kernel: the programs in the {host} container went over its memory limit{limit}"
        ).format(host=host, limit=limit)

    def stop(self, name: str, *, killed: bool = False) -> None:
        """Stop a program (every student process on its host goes with it) and collect its
        output; ``killed``: its host's processes were killed already, only collect."""
        proc = self.running.pop(name, None)
        if proc is not None and proc.poll() is None:
            if not killed:
                self.kill_all(self.lab.programs[name].host)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        capture = self.captures.pop(name, None)
        if capture is not None:
            capture.join(timeout=5)
            if capture.sink is not None:
                capture.sink.close()

    def stop_all(self) -> None:
        """Stop every program, and whatever they left behind (detached children included):
        the hosts side by side, then the programs' output collected."""
        with ThreadPoolExecutor() as pool:
            list(pool.map(self.kill_all, sorted(self.hosts)))
        for name in list(self.running):
            self.stop(name, killed=True)

    def tail(self, name: str, lines: int = 15) -> str:
        """The last lines of a program's output, as evidence for a failed check."""
        path = self.log_path(name)
        if not path.exists():
            return _("({program} wrote nothing)").format(program=name)
        text = path.read_text(errors="replace").splitlines()[-lines:]
        heading = _("last lines of {program}'s output:").format(program=name)
        return f"{heading}\n" + "\n".join(f"  | {line}" for line in text)
