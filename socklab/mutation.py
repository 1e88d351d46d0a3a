"""The strength of a lab's checker, measured: mutation testing of its reference solution.

cosmic-ray mutates a copy of the lab's ``solution/`` one small change at a time and runs
the lab's checker on each mutant (hidden checks included, the lab's own profile, one
seed): a mutant the checker fails is *killed*, one it passes *survived*. A mutant that no
program could tell from the solution is *equivalent*; each is listed with its reason in
the lab's ``mutation.toml``::

    [[equivalent]]
    file = "server.py"
    line = 12
    operator = "core/ReplaceComparisonOperator_Lt_LtE"
    reason = "n is never equal to the limit here: ..."
    becomes = "n <= limit"   # optional: only the mutant whose changed line contains this

An operator may change a line in several places (``NumberReplacer`` on each number of
it); ``becomes`` names the one change that is equivalent, so the others still count.

The score is killed / (mutants run - equivalent). A sample with a fixed seed keeps a
slow lab within reach of a 2-core machine; the report says how many were sampled.

  python -m socklab.mutation check LAB CODE SEED   (cosmic-ray's test command)
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10 (Ubuntu 22.04): the backport, a dependency there
    import tomli as tomllib  # type: ignore[no-redef]

from socklab import lab as labs
from socklab.errors import LabError, PlatformError

PLATFORM_ERROR = "socklab-mutation: platform error, not a verdict"


@dataclass(frozen=True)
class Mutant:
    file: str
    line: int
    operator: str
    outcome: str = ""  # killed, survived, error (the platform failed twice)
    diff: str = ""

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line} {self.operator}"

    @property
    def change(self) -> str:
        """The mutated line as the mutant has it (from its diff), or "" when unknown."""
        added = [
            line[1:].strip()
            for line in self.diff.splitlines()
            if line.startswith("+") and not line.startswith("+++")
        ]
        return added[0] if added else ""


@dataclass(frozen=True)
class Equivalent:
    file: str
    line: int
    operator: str
    reason: str
    becomes: str = ""  # a text of the mutated line: this change only ("" for any change there)

    def matches(self, mutant: Mutant) -> bool:
        if (mutant.file, mutant.line, mutant.operator) != (self.file, self.line, self.operator):
            return False
        return not self.becomes or self.becomes in mutant.change


@dataclass
class Score:
    lab: str
    total: int  # every mutant cosmic-ray can make of the solution
    seed: int
    run: list[Mutant] = field(default_factory=list)  # the sample, with outcomes
    equivalent: list[tuple[Mutant, str]] = field(default_factory=list)

    def _of(self, outcome: str) -> list[Mutant]:
        judged = {id(m) for m, _ in self.equivalent}
        return [m for m in self.run if m.outcome == outcome and id(m) not in judged]

    @property
    def killed(self) -> list[Mutant]:
        return self._of("killed")

    @property
    def survived(self) -> list[Mutant]:
        return self._of("survived")

    @property
    def errors(self) -> list[Mutant]:
        return self._of("error")

    @property
    def percent(self) -> float:
        counted = len(self.killed) + len(self.survived)
        return 100.0 * len(self.killed) / counted if counted else 0.0


def equivalents(lab: labs.Lab) -> list[Equivalent]:
    """The lab's ``mutation.toml``: its equivalent mutants, each with a reason."""
    path = lab.path / "mutation.toml"
    if not path.exists():
        return []
    where = f"labs/{lab.name}/mutation.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise LabError(f"{where}: {exc}") from None
    found = []
    for i, entry in enumerate(data.get("equivalent", [])):
        missing = {"file", "line", "operator", "reason"} - set(entry)
        if missing:
            raise LabError(f"{where}: [[equivalent]] number {i + 1} lacks {', '.join(sorted(missing))}")
        if not str(entry["reason"]).strip():
            raise LabError(f"{where}: [[equivalent]] number {i + 1} gives no reason")
        found.append(
            Equivalent(
                entry["file"],
                int(entry["line"]),
                entry["operator"],
                entry["reason"],
                str(entry.get("becomes", "")),
            )
        )
    return found


def sample(keys: list[tuple], size: int | None, seed: int) -> set[tuple]:
    """A fixed-seed sample of ``size`` keys (all of them when size is None or larger)."""
    ordered = sorted(keys)
    if size is None or size >= len(ordered):
        return set(ordered)
    return set(random.Random(seed).sample(ordered, size))


def judge(score: Score, known: list[Equivalent]) -> Score:
    """Mark the sample's mutants that the lab's mutation.toml judges equivalent."""
    score.equivalent = [(m, e.reason) for m in score.run for e in known if e.matches(m)]
    return score


def _config(code: Path, files: list[str], lab: labs.Lab, seed: int) -> Path:
    command = f"{sys.executable} -m socklab.mutation check {lab.path} {code} {seed}"
    text = (
        "[cosmic-ray]\n"
        f"module-path = [{', '.join(repr(f) for f in files)}]\n"
        f"timeout = {lab.timeout + 120}\n"
        "excluded-modules = []\n"
        f"test-command = {command!r}\n"
        "[cosmic-ray.distributor]\n"
        'name = "local"\n'
    ).replace("'", '"')
    path = code.parent / "cosmic-ray.toml"
    path.write_text(text)
    return path


def _cosmic_ray(args: list[str], cwd: Path) -> None:
    tool = Path(sys.executable).parent / "cosmic-ray"
    if not tool.exists():
        raise PlatformError(
            "the mutation suite needs cosmic-ray: make bench installs it (or: pip install cosmic-ray)"
        )
    done = subprocess.run([str(tool), *args], cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise PlatformError(f"cosmic-ray {args[0]} exited {done.returncode}:\n{done.stderr[-2000:]}")


def _jobs(db: Path) -> list[tuple[str, str, int, str, int]]:
    """(job id, file, line, operator, occurrence) of every mutant in the session."""
    from cosmic_ray.work_db import WorkDB, use_db

    with use_db(str(db), WorkDB.Mode.open) as work:
        return [
            (item.job_id, Path(m.module_path).name, m.start_pos[0], m.operator_name, m.occurrence)
            for item in work.work_items
            for m in item.mutations
        ]


def _skip(db: Path, job_ids: list[str]) -> None:
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import WorkerOutcome, WorkResult

    with use_db(str(db), WorkDB.Mode.open) as work:
        work.set_multiple_results(job_ids, WorkResult(worker_outcome=WorkerOutcome.SKIPPED))


def _outcomes(db: Path) -> dict[str, tuple[str, str, str]]:
    """Each mutant run: (killed or survived, the test command's output, the mutation's diff)."""
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import WorkerOutcome

    with use_db(str(db), WorkDB.Mode.open) as work:
        return {
            job: (
                str(r.test_outcome.value if r.test_outcome else r.worker_outcome.value),
                r.output or "",
                r.diff or "",
            )
            for job, r in work.results
            if r.worker_outcome != WorkerOutcome.SKIPPED
        }


def score_lab(
    lab: labs.Lab, size: int | None = None, seed: int = 1, log: Callable[[str], None] = lambda _m: None
) -> Score:
    """Mutate a copy of the lab's solution, run the checker on a sample of the mutants."""
    with tempfile.TemporaryDirectory(prefix="socklab-mutation-") as tmp:
        code = Path(tmp) / "code"
        shutil.copytree(lab.solution, code)
        for path in [Path(tmp), *code.rglob("*"), code]:
            path.chmod(0o755 if path.is_dir() else 0o644)  # the student user reads the mount
        files = sorted(str(p.relative_to(code)) for p in code.rglob("*.py"))
        config, db = _config(code, files, lab, seed), Path(tmp) / "session.sqlite"
        _cosmic_ray(["init", str(config), str(db)], code)
        jobs = _jobs(db)
        chosen = sample([(f, line, op, occ) for _, f, line, op, occ in jobs], size, seed)
        _skip(db, [j for j, f, line, op, occ in jobs if (f, line, op, occ) not in chosen])
        log(f"{lab.name}: {len(chosen)} of {len(jobs)} mutants (seed {seed})")
        _cosmic_ray(["exec", str(config), str(db)], code)
        outcomes = _outcomes(db)
    run = []
    for job, f, line, op, _occ in sorted(jobs, key=lambda j: j[1:]):
        if job in outcomes:
            test, output, diff = outcomes[job]
            outcome = "error" if PLATFORM_ERROR in output else test
            run.append(Mutant(f, line, op, outcome, diff))
    return judge(Score(lab.name, len(jobs), seed, run), equivalents(lab))


def check(lab_path: str, code: str, seed: str) -> int:
    """cosmic-ray's test command: 0 when the checker passes the mutant, 1 when it fails it.

    A platform error is retried once; a second one counts as neither (printed, exit 0), so
    a broken platform can never raise the score.
    """
    from socklab import runner  # the runner imports Docker: only the test command needs it

    lab = labs.load(Path(lab_path))
    for _ in range(2):
        result = runner.run(lab, Path(code), hidden=True, seed=int(seed))
        if result.status != "error":
            failed = [c.id for c in result.checks if not c.passed]
            print(f"{result.status}: {', '.join(failed)}")
            return 0 if result.status == "passed" else 1
    print(f"{PLATFORM_ERROR}: {result.message}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "check":
        os.environ.setdefault("SOCKLAB_RUNS", tempfile.mkdtemp(prefix="socklab-mutation-runs-"))
        sys.exit(check(*sys.argv[2:]))
    sys.exit(__doc__)
