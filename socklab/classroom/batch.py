"""Grade a folder of submissions, one per student, on K isolated lab instances at once.

Which students to grade is a pure decision (``plan``); grading is a pool of slots, each a
thread with its own ``Grader`` (this machine, or a connection to a grading host), that
take submissions from a ``Scheduler``. Nothing one submission does stops the batch: a
verdict, a platform error and a bug of ours all end as that student's stored result.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import shutil
import stat
import subprocess
import tempfile
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Protocol

from socklab import __version__, runner
from socklab import watch as watching
from socklab.classroom.schedule import Scheduler
from socklab.classroom.store import Record, Store
from socklab.errors import LabError, SocklabError
from socklab.grading.feedback import FormatOptions
from socklab.grading.result import LabResult
from socklab.lab import Lab

# Folders a submissions folder holds that are never a student's (tools and archivers make
# them); every other folder is graded, its name whatever it is, and these are listed.
NOT_STUDENTS = frozenset(
    {
        ".git",
        ".github",
        ".gitlab",
        ".vscode",
        ".idea",
        "__MACOSX",
        "__pycache__",
        ".ipynb_checkpoints",
        ".Trash",
        ".Trashes",
    }
)


@dataclass(frozen=True)
class Submission:
    student: str  # the folder's name (not UTF-8 bytes kept as surrogates: os.fsdecode)
    path: Path  # the submission folder
    code: Path  # the code under test in it
    digest: str  # of every file under ``code``
    problem: str = ""  # why it is not graded as it stands; the student's result says so
    commit: str | None = None  # HEAD of the folder when it is a git checkout


def digest(folder: Path) -> str:
    """A hash of a folder's files (names and bytes, read in pieces; a symlink by its target,
    never followed; ``__pycache__`` left out). Names are hashed as the bytes they are."""
    h = hashlib.sha256()
    files = (
        p
        for p in folder.rglob("*")
        if (not p.is_dir() or p.is_symlink()) and "__pycache__" not in p.relative_to(folder).parts
    )
    for path in sorted(files):
        rel = os.fsencode(path.relative_to(folder).as_posix())
        mode = path.lstat().st_mode
        h.update(len(rel).to_bytes(8, "big") + rel)
        if stat.S_ISLNK(mode):
            h.update(b"-> " + os.fsencode(path.readlink()))
        elif stat.S_ISREG(mode):
            h.update(path.stat().st_size.to_bytes(8, "big"))
            with path.open("rb") as data:
                for piece in iter(lambda: data.read(1 << 20), b""):  # a sparse 3 GiB file too
                    h.update(piece)
        else:  # a FIFO or a device is hashed by its kind: reading it could block forever
            h.update(f"special {mode:o}".encode())
    return h.hexdigest()[:16]


def _git_env(folder: Path) -> dict[str, str]:
    # our own GIT_DIR (a hook, a CI step) must not answer for the student's folder
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    return {**env, "GIT_CEILING_DIRECTORIES": str(folder.absolute().parent)}


def commit(folder: Path) -> str | None:
    """The commit checked out in ``folder`` when it is a git checkout of its own, else None.

    Another user's checkout (a TA's clone) is fine: safe.directory, for this one command.
    The folder is data: git only reads HEAD, with no hook or monitor it could configure.
    """
    if not (folder / ".git").exists() or folder.is_symlink():
        return None  # not a checkout, or one a parent folder holds: not this student's commit
    try:
        done = subprocess.run(
            [
                "git",
                "-c",
                "safe.directory=*",
                "-c",
                "core.fsmonitor=false",
                "-C",
                str(folder),
                "rev-parse",
                "--verify",
                "--quiet",
                "HEAD^{commit}",
            ],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
            stdin=subprocess.DEVNULL,
            env=_git_env(folder),
        )
    except (OSError, subprocess.TimeoutExpired):
        return None  # no git here, or a repository git cannot read in time
    head = done.stdout.strip()
    return head if done.returncode == 0 and len(head) in (40, 64) else None


def leaves(submission: Path, code: Path) -> str:
    """Why ``code`` is not inside ``submission`` (a link somewhere on the way), or ""."""
    if submission.is_symlink():
        return f"the submission folder is a link (to {os.readlink(submission)}), not a folder"
    inside = submission.resolve()
    if code.resolve() == inside or code.resolve().is_relative_to(inside):
        return ""
    step = submission
    for part in code.relative_to(submission).parts:
        step = step / part
        if step.is_symlink():
            return (
                f"{step.relative_to(submission)} is a link to {os.readlink(step)}, outside the "
                "submission: socklab grades only what is inside it"
            )
    return "the code folder is outside the submission"


def code_folder(submission: Path, lab: Lab) -> Path:
    """Where the code under test is: the folder itself, or, for a whole student
    repository (the template), its ``labs/NN-slug/starter/``."""
    in_repo = submission / "labs" / lab.name / "starter"
    if lab.missing_files(submission) == [p.file for p in lab.programs.values()] and in_repo.is_dir():
        return in_repo
    return submission


def skipped(folder: Path) -> list[str]:
    """The entries of a submissions folder that are not graded, each with why."""
    return [
        f"{p.name} ({'not a student' if p.name in NOT_STUDENTS else 'not a folder'})"
        for p in sorted(folder.iterdir())
        if p.name in NOT_STUDENTS or not (p.is_dir() or p.is_symlink())
    ]


def submissions(folder: Path, lab: Lab) -> list[Submission]:
    """One submission per sub-folder (see NOT_STUDENTS and skipped()), sorted by name.

    A submission tree is data: a link that leads out of it is refused, for that student
    alone, with a message that names it.
    """
    if not folder.is_dir():
        raise LabError(f"{folder}: no such folder of submissions")
    found = []
    for path in sorted(
        p for p in folder.iterdir() if (p.is_dir() or p.is_symlink()) and p.name not in NOT_STUDENTS
    ):
        path = path.absolute()
        code = path if path.is_symlink() else code_folder(path, lab)
        problem = leaves(path, code)
        found.append(
            Submission(path.name, path, code, "" if problem else digest(code), problem, commit(path))
        )
    if not found:
        raise LabError(f"{folder} has no submission folders (one folder per student)")
    return found


def why_grade(
    sub: Submission,
    lab: Lab,
    seed: int | None,
    result: LabResult | None,
    record: Record | None,
    redo: bool = False,
) -> str | None:
    """Why ``sub`` must be graded (again), or None when its stored result stands."""
    if redo:
        return "--redo"
    if result is None or record is None:
        return "not graded yet"
    if record.lab != lab.name or result.lab != lab.name:
        return f"graded for another lab ({record.lab})"
    if record.digest != sub.digest:
        return "the submission changed since it was graded"
    if record.seed != seed:
        return f"graded with seed {record.seed}, not {seed}"
    if result.status == "error":
        return "the platform failed last time"
    return None


def plan(
    subs: list[Submission], lab: Lab, seed: int | None, store: Store, redo: bool = False
) -> tuple[list[Submission], list[Submission]]:
    """(to grade, to keep) for this batch."""
    grade: list[Submission] = []
    keep: list[Submission] = []
    for sub in subs:
        (grade if why_grade(sub, lab, seed, *store.load(sub.student), redo) else keep).append(sub)
    return grade, keep


class HostFailure(SocklabError):
    """A grading host failed (not the submission): it is dropped and the submission re-run."""


class Grader(Protocol):
    """One grading slot: grades one submission at a time."""

    def start(self) -> None: ...  # raises HostFailure when the host is unusable
    def grade(self, lab: Lab, sub: Submission, seed: int | None) -> LabResult: ...
    def close(self) -> None: ...


class LocalGrader:
    """A slot on this machine: ``runner.run``, hidden checks included."""

    def start(self) -> None:
        pass

    def grade(self, lab: Lab, sub: Submission, seed: int | None) -> LabResult:
        return runner.run(
            lab,
            sub.code,
            seed=seed,
            hidden=True,
            reproduce=f"make lab-{lab.number} CODE={shlex.quote(str(sub.code))}",
        )

    def close(self) -> None:
        pass


class ReusingGrader:
    """A slot on this machine that keeps one lab network for the whole batch, as watch mode
    does (``socklab.watch``): each submission's files are copied into the folder the
    containers mount, and between two submissions the network is put back as a fresh run
    finds it (a reset that cannot be made whole builds a new one). Hidden checks included."""

    def __init__(self) -> None:
        self.session: watching.Session | None = None
        self.tmp: Path | None = None

    def start(self) -> None:
        pass  # the network comes with the first submission: the lab and the seed are known then

    def grade(self, lab: Lab, sub: Submission, seed: int | None) -> LabResult:
        if (
            self.session is None
            or self.session.lab.path != lab.path
            or self.session.seed != (runner.DEFAULT_SEED if seed is None else seed)
        ):
            self.close()
            self.tmp = Path(tempfile.mkdtemp(prefix="socklab-grade-"))
            (self.tmp / "code").mkdir()
            self.session = watching.Session(lab, self.tmp / "code", seed=seed, hidden=True)
            self.session.__enter__()
        stage(sub.code, self.session.code)
        self.session.reproduce = f"make lab-{lab.number} CODE={shlex.quote(str(sub.code))}"
        result = self.session.round()
        result.code = str(sub.code)
        return result

    def close(self) -> None:
        if self.session is not None:
            session, self.session = self.session, None
            session.__exit__(None, None, None)
            shutil.rmtree(session.base, ignore_errors=True)  # each round's folder was moved out
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None


def stage(code: Path, folder: Path) -> None:
    """``folder`` emptied, then holding a copy of ``code`` as the containers would have seen
    it mounted: links copied as links, named pipes made again, sockets and devices left out
    (nothing could open them through a mount either)."""
    for item in folder.iterdir():
        if item.is_dir() and not item.is_symlink():
            shutil.rmtree(item)
        else:
            item.unlink()
    for root, dirs, files in os.walk(code):
        target = folder / Path(root).relative_to(code)
        linked = [d for d in dirs if (Path(root) / d).is_symlink()]
        dirs[:] = [d for d in dirs if d not in linked and d != "__pycache__"]
        for name in [*linked, *dirs, *files]:
            source, copy = Path(root) / name, target / name
            mode = source.lstat().st_mode
            if stat.S_ISLNK(mode):
                copy.symlink_to(os.readlink(source))
            elif stat.S_ISDIR(mode):
                copy.mkdir()
            elif stat.S_ISREG(mode):
                shutil.copyfile(source, copy)
                copy.chmod(stat.S_IMODE(mode))
            elif stat.S_ISFIFO(mode):
                os.mkfifo(copy, stat.S_IMODE(mode))


def refused(lab: Lab, sub: Submission) -> LabResult:
    """The result of a submission that cannot be graded as it stands: the student's doing."""
    return LabResult(
        lab=lab.name,
        title=lab.title,
        code=str(sub.code),
        status="failed",
        message=f"not graded: {sub.problem}",
        version=__version__,
        started_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )


def error_result(lab: Lab, sub: Submission, message: str) -> LabResult:
    return LabResult(
        lab=lab.name,
        title=lab.title,
        code=str(sub.code),
        status="error",
        message=message,
        version=__version__,
    )


@dataclass
class Batch:
    """One batch: the lab, what to grade, where the results go, and how to report them."""

    lab: Lab
    todo: list[Submission]
    store: Store
    seed: int | None = None
    formats: list[str] = field(default_factory=list)
    options: FormatOptions = field(default_factory=FormatOptions)
    on_done: Callable[[Submission, LabResult, str], None] = lambda _s, _r, _h: None

    def run(self, slots: dict[str, list[Grader]]) -> Scheduler:
        """Grade ``todo`` on the slots of each host; return the final schedule."""
        sched = Scheduler.of(list(slots), [s.student for s in self.todo])
        self._sched, self._cond = sched, threading.Condition()
        self._by_name = {s.student: s for s in self.todo}
        threads = [
            threading.Thread(target=self._slot, args=(host, grader), daemon=True, name=f"grade-{host}-{i}")
            for host, graders in slots.items()
            for i, grader in enumerate(graders)
        ]
        for t in threads:
            t.start()
        try:
            for t in threads:
                while t.is_alive():
                    t.join(0.5)  # a bounded join lets Ctrl-C in
        except KeyboardInterrupt:
            with self._cond:
                sched.pending.clear()  # take no more; the running ones finish and are kept
                self._cond.notify_all()
            raise
        return sched

    def _slot(self, host: str, grader: Grader) -> None:
        sched, cond = self._sched, self._cond
        try:
            grader.start()
        except HostFailure as exc:
            with cond:
                sched.host_down(host, str(exc))
                cond.notify_all()
            return
        try:
            while (student := self._take(host)) is not None:
                try:
                    if not self._grade_one(host, grader, self._by_name[student]):
                        return
                except BaseException as exc:  # storing failed: never leave it "running" forever
                    with cond:
                        sched.abandon(host, student, f"the batch failed to store it: {exc!r}")
                        cond.notify_all()
                    raise
        finally:
            grader.close()

    def _grade_one(self, host: str, grader: Grader, sub: Submission) -> bool:
        """Grade and store one submission; False when the host failed (the slot stops)."""
        self.store.forget(sub.student)
        if sub.problem:
            self._finish(host, sub, refused(self.lab, sub))
            return True
        try:
            result = grader.grade(self.lab, sub, self.seed)
        except HostFailure as exc:
            with self._cond:
                kept = self._sched.fail(host, sub.student, str(exc))
                self._cond.notify_all()
            if not kept:
                reason = self._sched.given_up[sub.student]
                self._finish(host, sub, error_result(self.lab, sub, reason), complete=False)
            return False
        except Exception:  # a bug of ours: this student's result says so, the batch goes on
            result = error_result(
                self.lab, sub, "internal error while grading:\n" + traceback.format_exc(limit=5)
            )
        self._finish(host, sub, result)
        return True

    def _take(self, host: str) -> str | None:
        with self._cond:
            while (student := self._sched.take(host)) is None:
                if not self._sched.should_wait(host):
                    return None
                self._cond.wait()
            return student

    def _finish(self, host: str, sub: Submission, result: LabResult, complete: bool = True) -> None:
        result.commit = sub.commit
        if host == "local" and result.artifacts:  # a grading host keeps its own
            result.artifacts = str(self.store.keep_artifacts(sub.student, Path(result.artifacts)))
        record = Record(
            sub.student, self.lab.name, sub.digest, self.seed, host, result.started_at, sub.commit
        )
        self.store.save(result, record, self.formats, self.options)
        if complete:
            with self._cond:
                self._sched.complete(host, sub.student)
                self._cond.notify_all()
        self.on_done(sub, result, host)
