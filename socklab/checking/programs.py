"""Start, watch and stop the programs of the code under test inside the lab containers.

Programs run as the unprivileged ``student`` user from /scratch. Their output goes
to a log on the host (``ARTIFACTS/NAME.log``) through the attached ``docker exec``,
out of the student's reach; while that ``docker exec`` runs, the program runs.
"""

from __future__ import annotations

import shlex
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from socklab.checking.context import RunContext
from socklab.errors import PlatformError
from socklab.lab import Lab, Program

STUDENT = "student"
OUTPUT_LIMIT = 1 << 20  # bytes of one program's output kept; the rest is counted and dropped


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
            keep, self.dropped = chunk[:max(room, 0)], self.dropped + max(len(chunk) - room, 0)
            self.kept += keep
            if self.sink is not None and keep:
                self.sink.write(keep)
                self.sink.flush()
        if self.sink is not None and self.dropped:
            self.sink.write(self.note().encode())
            self.sink.flush()

    def note(self) -> str:
        return f"\n[socklab: {self.dropped} more bytes of output dropped]\n" if self.dropped else ""

    def text(self) -> str:
        return self.kept.decode(errors="replace") + self.note()


class ProgramError(AssertionError):
    """The code under test did not start or did not get ready: the student's to fix."""


@dataclass
class Finished:
    argv: list[str]
    returncode: int
    stdout: str
    stderr: str
    elapsed: float
    timed_out: bool


def docker_exec(container: str, argv: list[str], *, user: str = "0", detach_in: bool = False,
                workdir: str = "/scratch") -> list[str]:
    return ["docker", "exec", *(["-i"] if detach_in else []), "-u", user, "-w", workdir,
            container, *argv]


class Programs:
    """The lab's programs in one run: start them, ask if they live, read their logs."""

    def __init__(self, lab: Lab, ctx: RunContext) -> None:
        self.lab = lab
        self.ctx = ctx
        self.running: dict[str, subprocess.Popen[bytes]] = {}
        self.captures: dict[str, Capture] = {}
        self.starts: dict[str, int] = {}

    def log_path(self, name: str) -> Path:
        return Path(self.ctx.artifacts) / f"{name}.log"

    def argv(self, program: Program, extra: list[str] | None = None) -> list[str]:
        return [*program.argv, *(extra or [])]

    def start(self, name: str, extra: list[str] | None = None) -> None:
        """Start a program in the background, its output appended to its log."""
        program = self.lab.programs[name]
        if not (Path(self.ctx.code) / program.file).is_file():
            raise ProgramError(f"the code under test has no {program.file} (looked in {self.ctx.code})")
        self.stop(name)
        self.starts[name] = self.starts.get(name, 0) + 1
        log = self.log_path(name).open("ab")
        log.write(f"--- start {self.starts[name]}: {shlex.join(self.argv(program, extra))}\n".encode())
        log.flush()
        proc = subprocess.Popen(
            docker_exec(self.ctx.container(program.host), self.argv(program, extra),
                        user=STUDENT, workdir="/lab/code"),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.running[name] = proc
        self.captures[name] = Capture(proc.stdout, log)  # type: ignore[arg-type]
        self.captures[name].start()

    def alive(self, name: str) -> bool:
        proc = self.running.get(name)
        return proc is not None and proc.poll() is None

    def ensure(self, name: str, timeout: float = 10.0) -> None:
        """The program running and ready: reuse it if alive, else (re)start and wait."""
        if self.alive(name):
            return
        self.start(name)
        self.wait_ready(name, timeout)

    def wait_ready(self, name: str, timeout: float = 10.0) -> None:
        """Wait until the program listens on its port (seen with ``ss`` in its container)."""
        program = self.lab.programs[name]
        if program.listen is None and program.listen_udp is None:
            return
        flag, port = ("-ltn", program.listen) if program.listen else ("-lun", program.listen_udp)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive(name):
                raise ProgramError(f"{program.file} exited (code {self.running[name].returncode}) "
                                   f"before listening on port {port}")
            out = subprocess.run(docker_exec(self.ctx.container(program.host),
                                             ["ss", "-H", flag, f"sport = :{port}"]),
                                 capture_output=True, text=True, check=False)
            if out.returncode != 0:
                raise PlatformError(f"ss failed in {program.host}: {out.stderr.strip()}")
            if out.stdout.strip():
                return
            time.sleep(0.05)
        raise ProgramError(f"{program.file} did not listen on port {port} within {timeout:g} s")

    def run(self, name: str, extra: list[str] | None = None, *, timeout: float = 10.0) -> Finished:
        """Run a program to completion (or until ``timeout``) and return its output."""
        program = self.lab.programs[name]
        if not (Path(self.ctx.code) / program.file).is_file():
            raise ProgramError(f"the code under test has no {program.file} (looked in {self.ctx.code})")
        argv = self.argv(program, extra)
        start = time.monotonic()
        proc = subprocess.Popen(docker_exec(self.ctx.container(program.host), argv,
                                            user=STUDENT, workdir="/lab/code"),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL)
        out, err = Capture(proc.stdout), Capture(proc.stderr)  # type: ignore[arg-type]
        out.start(), err.start()
        try:
            proc.wait(timeout=timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            self.kill_all(program.host)
            proc.wait()
            timed_out = True
        out.join(), err.join()
        finished = Finished(argv, proc.returncode, out.text(), err.text(),
                            time.monotonic() - start, timed_out)
        with self.log_path(name).open("a") as log:
            log.write(f"--- run: {shlex.join(argv)} (exit {finished.returncode}"
                      f"{', timed out' if timed_out else ''})\n{finished.stdout}{finished.stderr}")
        return finished

    def kill_all(self, host: str) -> None:
        """Kill every student process in a container (kill -1 as the student reaches only those)."""
        subprocess.run(docker_exec(self.ctx.container(host), ["kill", "-KILL", "-1"], user=STUDENT),
                       capture_output=True, check=False)

    def stop(self, name: str) -> None:
        proc = self.running.pop(name, None)
        if proc is not None and proc.poll() is None:
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
        for name in list(self.running):
            self.stop(name)

    def tail(self, name: str, lines: int = 15) -> str:
        """The last lines of a program's output, as evidence for a failed check."""
        path = self.log_path(name)
        if not path.exists():
            return f"({name} wrote nothing)"
        text = path.read_text(errors="replace").splitlines()[-lines:]
        return f"last lines of {name}'s output:\n" + "\n".join(f"  | {line}" for line in text)
