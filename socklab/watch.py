"""``socklab run N --watch``: the lab's network stays up, and every save re-runs the checks.

A fresh run spends most of its time building and removing the topology. A watch session
builds it once; between two rounds it puts back everything a round can change, so that a
round's verdict is the one a fresh run of the same code and seed would give:

- every process of the student's, and every leftover of the checker's (probes, test
  servers), is killed in the client and the server;
- ``/scratch``, ``/tmp`` and ``/dev/shm`` there are emptied (the only places a program can
  write: programs start from /scratch; lab 9's sockets live in /tmp);
- the TCP connections the programs left (TIME-WAIT) are destroyed;
- the impairment engine goes back to the run's profile and seed (``reset``: the same
  random streams as at its start) and its event log starts again empty;
- the checker is a new process each round, started while the student is still typing.

A check that asked for no program whose file was edited since the last round does not run
again: its last verdict stands (same code, same seed, same inputs). When a file no program
is started from was edited (a module they may import, anything else), every check runs.

When a reset cannot be made whole (a process that will not die), the topology is rebuilt:
slower, never wrong. The code is the folder the containers mount, so an edit is there as
soon as it is saved.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from socklab import compose, engine, impairing, runner
from socklab.checking.context import USED_FILE, RunContext
from socklab.checking.programs import STUDENT
from socklab.errors import CommandError, PlatformError
from socklab.grading.result import CheckResult, LabResult, save
from socklab.i18n import _
from socklab.lab import Lab

POLL = 0.1  # seconds between two looks at the code's files
SETTLE = 0.15  # seconds without a change before a round starts (an editor writes in steps)
HOSTS = ("client", "server")
# As the student: stop and kill every process of theirs (kill -1 reaches only those), then
# empty the folders they write to. As root (no capabilities: it reaches only root's own):
# the checker's leftovers, which are every process but docker-init (1), the container's
# own command (its first child: orphans are its children too) and this shell; then root's
# files in /tmp.
AS_STUDENT = "kill -STOP -1; kill -KILL -1; find /scratch /tmp /dev/shm -mindepth 1 -delete 2>/dev/null; true"
OTHERS = (
    "ps -e -o pid= -o ppid= --sort=pid | awk -v me=$$ "
    "'$2 == 1 && !main {main = $1; next} $1 != 1 && $1 != me && $2 != me {print $1}'"
)
AS_ROOT = (
    f"for p in $({OTHERS}); do kill -KILL $p 2>/dev/null; done; "
    f"find /tmp /dev/shm -mindepth 1 -user 0 -delete 2>/dev/null; sleep 0.02; {OTHERS}"
)
RESET_TRIES = 5
KEEP_ROUNDS = 3  # rounds whose artifacts stay (captures can be large)


def snapshot(code: Path) -> dict[str, tuple[int, int]]:
    """Each file under ``code`` with its modification time and size: what an edit changes."""
    seen: dict[str, tuple[int, int]] = {}
    for folder, dirs, files in os.walk(code):
        dirs[:] = [d for d in dirs if d not in ("__pycache__", ".git")]
        for name in files:
            path = os.path.join(folder, name)
            with contextlib.suppress(OSError):  # gone between the listing and the look
                st = os.stat(path)
                seen[path] = (st.st_mtime_ns, st.st_size)
    return seen


def changed(before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]]) -> list[str]:
    """The files added, removed or rewritten between two snapshots, sorted."""
    return sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))


Snapshot = dict[str, tuple[int, int]]  # path: (modification time in ns, size)


def wait_for_change(
    code: Path, before: Snapshot, sleep: Callable[[float], None] = time.sleep
) -> tuple[Snapshot, list[str]]:
    """Block until a file of ``code`` changes and then holds still for SETTLE seconds."""
    while True:
        now = snapshot(code)
        if changed(before, now):
            while True:  # let the editor finish: wait until nothing moves
                sleep(SETTLE)
                later = snapshot(code)
                if not changed(now, later):
                    return later, changed(before, later)
                now = later
        sleep(POLL)


def own_log(artifacts: Path) -> None:
    """The round's folder with its own copy of the engine's log (the round's lines only: the
    log starts again at each reset), so that it stands alone when moved or kept."""
    link = artifacts / impairing.EVENTS
    if link.is_symlink():
        target = link.resolve()
        link.unlink()
        if target.exists():
            shutil.copyfile(target, link)


class Session:
    """One lab's topology kept up for many rounds of its checker on one code folder."""

    def __init__(
        self,
        lab: Lab,
        code: Path,
        *,
        seed: int | None = None,
        profile: str | None = None,
        select: str | None = None,
        hidden: bool = False,
        reproduce: str = "",
        log: Callable[[str], None] = lambda _m: None,
    ) -> None:
        self.lab, self.code, self.select, self.hidden = lab, code.resolve(), select, hidden
        self.seed = runner.DEFAULT_SEED if seed is None else seed
        self.profile = profile or lab.profile
        self.reproduce, self.log = reproduce, log
        self.rounds = 0
        self.rebuilds = 0  # topologies built again because a reset failed
        self.stack = contextlib.ExitStack()
        self.topo: compose.Topology | None = None
        self.checker: runner.Checker | None = None
        self.last: LabResult | None = None  # the last round's result, with every check
        self.used: dict[str, list[str]] = {}  # check id: the programs it asked for
        self.kept: list[str] = []  # the checks whose last verdict this round kept

    def __enter__(self) -> Session:
        runner.prepare(self.lab, self.profile, self.log)
        try:
            self._up()
        except BaseException:
            self.stack.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stack.close()

    def _up(self) -> None:
        """A new topology (and artifacts folder) for the rounds to come."""
        self.project = compose.new_project()
        self.base = runner.new_artifacts(self.lab, self.project, suffix="watch")
        self.impairment = (
            None if self.profile == "clean" else compose.Impairment(self.profile, self.seed, self.base)
        )
        self.topo = self.stack.enter_context(
            runner.topology(self.code, self.project, self.impairment, self.lab.images)
        )
        self.stack.callback(self._stop_checker)
        self._next_checker()

    def _next_checker(self) -> None:
        """The next round's checker, started now, in the next round's folder."""
        self.artifacts = self.base / f"round-{self.rounds + 1}"
        self.artifacts.mkdir(parents=True, exist_ok=True)
        (self.artifacts / impairing.EVENTS).symlink_to(Path("..") / impairing.EVENTS)
        for old in self.base.glob("round-*"):  # the last rounds stay for the student to read
            if old.name[6:].isdigit() and int(old.name[6:]) < self.rounds - KEEP_ROUNDS + 1:
                shutil.rmtree(old, ignore_errors=True)
        self.checker = runner.Checker(self.lab, self.artifacts, self.select, self.hidden)

    def _stop_checker(self) -> None:
        """Stop the next round's checker, which never ran: its folder goes with it."""
        if self.checker is not None:
            self.checker.stop()
            self.checker = None
            shutil.rmtree(self.artifacts, ignore_errors=True)

    def _rebuild(self) -> None:
        self.rebuilds += 1
        self.stack.close()
        self.stack = contextlib.ExitStack()
        self._up()

    def reset(self) -> None:
        """Put the topology back as a fresh run finds it; rebuild it where that fails."""
        assert self.topo is not None
        jobs = [(self._empty, self.topo.container(host)) for host in HOSTS]
        if self.impairment:
            jobs.append((self._reset_link, self.topo.container("impair")))
        try:
            with ThreadPoolExecutor(len(jobs)) as pool:  # each is a few docker execs: side by side
                for done in [pool.submit(job, container) for job, container in jobs]:
                    done.result()
        except (CommandError, PlatformError) as exc:
            self.log(
                _("the lab's network could not be reset ({error}): starting a new one").format(
                    error=str(exc).splitlines()[0]
                )
            )
            self._rebuild()
            return

    def _empty(self, container: str) -> None:
        for _try in range(RESET_TRIES):
            engine.run(["docker", "exec", "-u", STUDENT, container, "sh", "-c", AS_STUDENT], timeout=30)
            # root's pass ends by listing what is left (a process dies in a moment: look again)
            left = engine.run(
                ["docker", "exec", "-u", "0", container, "sh", "-c", AS_ROOT], timeout=30
            ).strip()
            if not left:
                self._forget_connections(container)
                return
            time.sleep(0.1)
        raise PlatformError(
            _("processes left in {container}: {left}").format(
                container=container, left=" ".join(left.split())
            )
        )

    def _forget_connections(self, container: str) -> None:
        """Destroy the TCP connections the last round's programs left (TIME-WAIT above all:
        a fresh run has none, and a server without SO_REUSEADDR could not bind again)."""
        compose.destroy_sockets(self.project, container, "-a", "exclude", "listening")

    def _reset_link(self, container: str) -> None:
        """The engine back to the run's profile and seed, its log started again."""
        impairing.request(container, "stats")  # makes the engine write out what it holds
        events = self.base / impairing.EVENTS
        if events.exists():
            os.truncate(events, 0)  # the engine appends: its next line is the file's first
        reply = impairing.request(container, "reset")
        if not reply.get("ok"):
            raise PlatformError(
                _("the impairment engine refused reset: {error}").format(error=reply.get("error"))
            )

    def standing(self, edited: list[str]) -> list[str]:
        """The checks of the last round whose verdict still stands after ``edited`` (paths):
        each asked for programs, none of which is started from an edited file."""
        if not edited or self.last is None or self.last.status not in ("passed", "failed"):
            return []
        started_from: dict[str, set[str]] = {}
        for name, program in self.lab.programs.items():
            started_from.setdefault(program.file, set()).add(name)
        touched: set[str] = set()
        for path in edited:
            relative = os.path.relpath(path, self.code)
            if relative not in started_from:
                return []  # imported by a program, read by a check, ...: anything may depend on it
            touched |= started_from[relative]
        return [
            check.id
            for check in self.last.checks
            if check.status in ("passed", "failed")
            and (used := self.used.get(check.id))
            and not touched & set(used)
        ]

    def round(self, edited: list[str] | None = None) -> LabResult:
        """Run the checker once on the code as it is now; the result, whatever happens.
        ``edited``: the files changed since the last round (the checks that use none of
        them keep their verdict, see ``standing``)."""
        started = time.monotonic()
        if self.rounds:
            self.reset()
        self.kept = self.standing(edited or [])
        assert self.checker is not None and self.topo is not None
        checker, artifacts = self.checker, self.artifacts
        result = runner.new_result(self.lab, self.code, self.profile, self.seed, artifacts)
        try:
            ctx = RunContext(
                project=self.project,
                lab=str(self.lab.path),
                code=str(self.code),
                artifacts=str(artifacts),
                addresses=self.topo.addresses(),
                profile=self.profile,
                seed=self.seed,
                reproduce=self.reproduce,
                skip=self.kept,
            )
            result.checks = self._with_kept(checker.verdicts(ctx))
            runner.judge(
                result, self.select, self.topo.container("impair") if self.impairment else None, artifacts
            )
        except PlatformError as exc:
            result.status, result.message = "error", str(exc)
        finally:
            checker.stop()
            self.checker = None
            self.rounds += 1
            result.duration = round(time.monotonic() - started, 3)
            save(result, artifacts / "result.json")
            own_log(artifacts)
            self._remember(result, artifacts)
        # the next round's checker: its imports and collection overlap the student's typing
        self._next_checker()
        return result

    def _with_kept(self, fresh: list[CheckResult]) -> list[CheckResult]:
        """This round's verdicts with the kept ones, in the checker's order."""
        if not self.kept or self.last is None:
            return fresh
        ran = {check.id: check for check in fresh}
        kept = {check.id: check for check in self.last.checks if check.id in self.kept}
        ordered = [ran.pop(c.id, None) or kept.get(c.id) for c in self.last.checks]
        return [c for c in ordered if c is not None] + list(ran.values())

    def _remember(self, result: LabResult, artifacts: Path) -> None:
        """What the next round may keep: this result, and which programs each check used."""
        used_file = artifacts / USED_FILE
        try:
            used = json.loads(used_file.read_text()) if used_file.exists() else {}
        except ValueError:
            used = {}
        self.used = {**{k: v for k, v in self.used.items() if k in self.kept}, **used}
        self.last = result


def watch(
    session: Session, show: Callable[[LabResult, list[str]], None], rounds: int | None = None
) -> Iterator[LabResult]:
    """Round after round, each after the code changed; ``rounds`` stops it (tests)."""
    before = snapshot(session.code)
    edited: list[str] = []
    done = 0
    while rounds is None or done < rounds:
        result = session.round(edited)
        show(result, edited)
        yield result
        done += 1
        if rounds is not None and done >= rounds:
            return
        before, edited = wait_for_change(session.code, before)
