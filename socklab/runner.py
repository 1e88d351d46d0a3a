"""Run one lab on one piece of code: a fresh topology, the checker, a result, no leftovers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from socklab import __version__, compose, images, impairing
from socklab.checking.context import RunContext
from socklab.errors import PlatformError, SocklabError
from socklab.grading.result import CheckResult, LabResult, save
from socklab.lab import Lab, known_profile

DEFAULT_SEED = 1  # grading is reproducible by default; --seed picks another


def runs_dir() -> Path:
    """Where runs keep their artifacts: $SOCKLAB_RUNS, else ./runs."""
    return Path(os.environ.get("SOCKLAB_RUNS") or Path.cwd() / "runs")


@contextmanager
def topology(code: Path, project: str,
             impairment: compose.Impairment | None = None) -> Iterator[compose.Topology]:
    """A fresh topology for the duration of the block, torn down however the block ends.

    A reaper process removes it too if this process is killed before it can.
    """
    reaper = subprocess.Popen([sys.executable, "-m", "socklab.reaper", str(os.getpid()), project],
                              start_new_session=True, stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield compose.up(code, project=project, impairment=impairment)
    finally:
        try:
            compose.down(project)
        finally:
            reaper.terminate()
            reaper.wait()


def checker_argv(lab: Lab, context: Path, results: Path, select: str | None,
                 hidden: bool = False) -> list[str]:
    paths = [lab.checker, *([lab.hidden] if hidden and lab.hidden.is_dir() else [])]
    return [sys.executable, "-m", "pytest", *map(str, paths), "-p", "socklab.checking.plugin",
            "--socklab-context", str(context), "--socklab-result", str(results),
            "--socklab-deadline", str(lab.timeout),
            "-q", "-p", "no:cacheprovider", "--rootdir", str(lab.path), "-c", os.devnull,
            *(["-k", select] if select else [])]


GRACE = 30  # seconds the checker process may run past the lab's limit before it is a hang


def run_checker(lab: Lab, ctx: RunContext, select: str | None,
                hidden: bool = False) -> list[CheckResult]:
    """Run the lab's checker in its own process; a crash or a hang is a platform error.

    The checks themselves keep to the lab's time (the plugin times out the rest), so
    only a checker that hangs past that and a grace period is stopped from here.
    """
    artifacts = Path(ctx.artifacts)
    context, results = artifacts / "context.json", artifacts / "checks.json"
    ctx.save(context)
    argv = checker_argv(lab, context, results, select, hidden)
    with (artifacts / "checker.log").open("wb") as log:
        try:
            proc = subprocess.run(argv, stdout=log, stderr=subprocess.STDOUT,
                                  timeout=lab.timeout + GRACE, check=False)
        except subprocess.TimeoutExpired:
            raise PlatformError(f"the checker hung: still running {GRACE} s after the lab's "
                                f"{lab.timeout:g} s (see {artifacts / 'checker.log'})") from None
    # pytest: 0 all passed, 1 some failed, 5 nothing selected; anything else is a crash
    if proc.returncode not in (0, 1, 5) or not results.exists():
        tail = "\n".join((artifacts / "checker.log").read_text(errors="replace").splitlines()[-20:])
        raise PlatformError(f"the checker crashed (pytest exit {proc.returncode}):\n{tail}")
    return [CheckResult(**r) for r in json.loads(results.read_text())]


def conclude(result: LabResult, select: str | None) -> None:
    """Set the run's status from its checks: any check error is the platform's."""
    errors = [c for c in result.checks if c.status == "error"]
    if errors:
        result.status, result.message = "error", f"{errors[0].title}: {errors[0].message}"
    elif not result.checks:
        result.status = "error"
        result.message = "no check ran" + (f" (none matches -k {select!r})" if select else "")
    else:
        result.status = "passed" if all(c.passed for c in result.checks) else "failed"


def run(lab: Lab, code: Path, *, select: str | None = None, seed: int | None = None,
        profile: str | None = None, reproduce: str = "", hidden: bool = False,
        log: Callable[[str], None] = lambda _m: None,
        show: Callable[[LabResult], None] = lambda _r: None) -> LabResult:
    """Run ``lab``'s checker on ``code``; always return a result, and leave nothing behind.

    ``profile`` replaces the lab's impairment profile; ``hidden`` adds the instructor-only
    checks (grading). ``show`` gets the result as soon as there is a verdict, before the
    teardown.
    """
    started = time.monotonic()
    seed = DEFAULT_SEED if seed is None else seed
    project = compose.new_project()
    artifacts = runs_dir() / f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{lab.name}-{project.split('-')[-1]}"
    artifacts.mkdir(parents=True, exist_ok=True)
    profile = profile or lab.profile
    impairment = None if profile == "clean" else compose.Impairment(profile, seed, artifacts)
    result = LabResult(lab=lab.name, title=lab.title, code=str(code), status="error",
                       profile=profile, seed=seed, artifacts=str(artifacts),
                       started_at=datetime.now(UTC).isoformat(timespec="seconds"),
                       version=__version__)
    shown = False

    def finish() -> None:
        nonlocal shown
        result.duration = round(time.monotonic() - started, 3)
        save(result, artifacts / "result.json")
        if not shown:
            shown = True
            show(result)

    try:
        built = images.ensure(log=log)
        if built:
            log(f"built images in {sum(built.values()):.0f} s")
        known_profile(profile)
        with topology(code.resolve(), project, impairment) as topo:
            ctx = RunContext(project=project, lab=str(lab.path), code=str(code.resolve()),
                             artifacts=str(artifacts), addresses=topo.addresses(),
                             profile=profile, seed=seed, reproduce=reproduce)
            result.checks = run_checker(lab, ctx, select, hidden)
            if impairment:
                impairing.check_health(topo.container("impair"))
            conclude(result, select)
            finish()
    except SocklabError as exc:
        if shown:  # the verdict stands, but the teardown failed: that is the platform's
            log(f"socklab: error: cleaning up after the run failed: {exc}")
        result.status, result.message = "error", str(exc) if not shown else \
            f"cleaning up after the run failed: {exc}"
    except KeyboardInterrupt:
        result.status, result.message = "error", "interrupted (Ctrl-C)"
        raise
    finally:
        finish()
    return result
