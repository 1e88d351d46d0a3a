"""Grading on other Docker hosts over SSH (Fabric): the same grader, run there.

Each host has a socklab checkout at ``--remote-root`` with its ``.venv`` made (``make
venv``) and its images built (``make images``), like the instructor's. A slot connects,
checks that the host grades this lab exactly as this machine would (same checker,
hidden checks and probes: a digest), then for each submission uploads its code to a
temporary folder there, runs ``socklab grade LAB CODE --format json`` and fetches the
result. Anything that goes wrong between here and the result is a ``HostFailure``: the
batch drops that host and grades the submission elsewhere.

    python -m socklab.classroom.hosts lab-digest LAB     (what a slot runs on the host)
"""

from __future__ import annotations

import hashlib
import io
import json
import shlex
import sys
import tarfile
from pathlib import Path
from typing import Any

from socklab.classroom.batch import HostFailure, Submission, digest
from socklab.grading.result import LabResult
from socklab.i18n import language
from socklab.lab import Lab, find

PACKAGE = Path(__file__).resolve().parent.parent
SETUP_TIMEOUT = 60  # seconds for a connection, an upload or a small command
GRADE_MARGIN = 300  # seconds beyond the lab's own limit for one remote grading (compose up/down)


def lab_digest(lab: Lab) -> str:
    """What decides a grade besides the submission: the lab's metadata, public and hidden
    checks, and socklab's checker plugin and probes."""
    h = hashlib.sha256((lab.path / "lab.toml").read_bytes())
    for folder in (lab.checker, lab.hidden, PACKAGE / "checking", PACKAGE / "probes"):
        h.update(f"{folder.name}:{digest(folder) if folder.is_dir() else '-'};".encode())
    return h.hexdigest()[:16]


def code_tarball(code: Path) -> io.BytesIO:
    """The code under test as a gzipped tar with one folder ``code``; symlinks stay links."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(code, arcname="code", filter=lambda ti: None if "__pycache__" in ti.name else ti)
    buf.seek(0)
    return buf


def _errors() -> tuple[type[BaseException], ...]:
    """What a lost host raises, from the socket to Fabric."""
    import invoke.exceptions
    import paramiko

    return (
        OSError,
        EOFError,
        paramiko.SSHException,
        invoke.exceptions.CommandTimedOut,
        invoke.exceptions.UnexpectedExit,
    )


class RemoteGrader:
    """One slot on one grading host: its own SSH connection."""

    def __init__(
        self, host: str, lab: Lab, remote_root: str = "socklab", identity: str | None = None
    ) -> None:
        self.host, self.lab, self.root = host, lab, remote_root
        self.identity = identity
        self.conn: Any = None

    def _run(self, command: str, timeout: float = SETUP_TIMEOUT) -> Any:
        return self.conn.run(command, hide=True, warn=True, in_stream=False, timeout=timeout)

    def start(self) -> None:
        from fabric import Connection

        kwargs = {"key_filename": self.identity} if self.identity else {}
        self.conn = Connection(self.host, connect_timeout=SETUP_TIMEOUT, connect_kwargs=kwargs)
        root = shlex.quote(self.root)
        try:
            self.conn.open()
            self.conn.transport.set_keepalive(10)  # notice a silent host
            probe = self._run(
                f"cd {root} && .venv/bin/python -m socklab.classroom.hosts "
                f"lab-digest {shlex.quote(self.lab.name)}"
            )
        except _errors() as exc:
            raise HostFailure(f"{self.host}: cannot connect: {exc}") from None
        if probe.exited != 0:
            tail = (probe.stderr or probe.stdout).strip().splitlines()[-3:]
            raise HostFailure(
                f"{self.host}: no working socklab in {self.root} (exit {probe.exited}): {' / '.join(tail)}"
            )
        if probe.stdout.strip() != lab_digest(self.lab):
            raise HostFailure(
                f"{self.host}: its {self.lab.name} (checker, hidden checks or "
                f"probes) differs from this machine's: update {self.root} there"
            )

    def grade(self, lab: Lab, sub: Submission, seed: int | None) -> LabResult:
        try:
            return self._grade(lab, sub, seed)
        except _errors() as exc:
            raise HostFailure(f"{self.host}: {type(exc).__name__}: {exc}") from None

    def _grade(self, lab: Lab, sub: Submission, seed: int | None) -> LabResult:
        made = self._run("mktemp -d /tmp/socklab-grade-XXXXXXXX")
        tmp = made.stdout.strip()
        if made.exited != 0 or not tmp.startswith("/tmp/socklab-grade-"):
            raise HostFailure(f"{self.host}: mktemp failed (exit {made.exited})")
        q = shlex.quote(tmp)
        try:
            self.conn.put(code_tarball(sub.code), f"{tmp}/code.tgz")
            # readable by the unprivileged user the programs run as in the containers
            self._check(
                self._run(f"cd {q} && tar -xzf code.tgz && rm code.tgz && chmod -R a+rX,go-w {q}"),
                "unpacking the submission",
            )
            argv = [
                ".venv/bin/socklab",
                "grade",
                lab.name,
                f"{tmp}/code",
                "--format",
                "json",
                "--out",
                f"{tmp}/result.json",
                *(["--seed", str(seed)] if seed is not None else []),
                *(["--lang", language()] if language() != "en" else []),
            ]  # the messages in result.json
            ran = self._run(
                f"cd {shlex.quote(self.root)} && {shlex.join(argv)}", timeout=lab.timeout + GRADE_MARGIN
            )
            if ran.exited not in (0, 1, 2):  # socklab grade exits 0, 1 or 2 with a result
                self._check(ran, "socklab grade")
            fetched = io.BytesIO()
            self.conn.get(f"{tmp}/result.json", fetched)
        finally:
            if self.conn.is_connected:
                self._run(f"rm -rf {q}")
        try:
            result = LabResult.from_dict(json.loads(fetched.getvalue()))
        except (ValueError, TypeError) as exc:
            raise HostFailure(f"{self.host}: its result is unreadable: {exc}") from None
        return _localized(result, f"{tmp}/code", sub.code)

    def _check(self, ran: Any, what: str) -> None:
        if ran.exited != 0:
            tail = " / ".join((ran.stderr or ran.stdout or "").strip().splitlines()[-3:])
            raise HostFailure(f"{self.host}: {what} failed (exit {ran.exited}): {tail}")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


def _localized(result: LabResult, remote: str, local: Path) -> LabResult:
    """The result with the host's temporary folder replaced by the submission's own."""
    result.code = str(local)
    for check in result.checks:
        check.reproduce = check.reproduce.replace(shlex.quote(remote), shlex.quote(str(local)))
    return result


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "lab-digest":
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    print(lab_digest(find(argv[1])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
