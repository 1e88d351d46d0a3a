"""Run one lab on one piece of code: a fresh topology, the checker, a result, no leftovers."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from socklab import __version__, compose, images, impairing
from socklab.checking.context import RunContext
from socklab.errors import PlatformError, SocklabError
from socklab.grading.result import CheckResult, LabResult, save
from socklab.i18n import _
from socklab.lab import Lab, known_profile

DEFAULT_SEED = 1  # grading is reproducible by default; --seed picks another


def runs_dir() -> Path:
    """Where runs keep their artifacts: $SOCKLAB_RUNS, else ./runs."""
    return Path(os.environ.get("SOCKLAB_RUNS") or Path.cwd() / "runs")


@contextmanager
def topology(
    code: Path,
    project: str,
    impairment: compose.Impairment | None = None,
    host_images: dict[str, str] | None = None,
) -> Iterator[compose.Topology]:
    """A fresh topology for the duration of the block, torn down however the block ends.

    A reaper process removes it too if this process is killed before it can.
    """
    reaper = subprocess.Popen(
        [sys.executable, "-m", "socklab.reaper", str(os.getpid()), project],
        start_new_session=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with mountable(code) as path:
            yield compose.up(path, project=project, impairment=impairment, images=host_images)
    except BaseException:
        # interrupted, maybe while Compose was still creating: sweep until nothing comes
        compose.sweep(project)
        raise
    finally:
        try:
            compose.down(project)
        finally:
            reaper.terminate()
            reaper.wait()


PLAIN_PATH = re.compile(r"[A-Za-z0-9_./@+-]+")


@contextmanager
def mountable(code: Path) -> Iterator[Path]:
    """``code``, or a link to it with a plain name where its own path is not one.

    A folder name is whatever a student's archive held: a ``:`` or a ``,`` breaks Compose's
    volume syntax, and a name that is not UTF-8 breaks Compose v1's reading of it.
    """
    if PLAIN_PATH.fullmatch(str(code)):
        yield code
        return
    with tempfile.TemporaryDirectory(prefix="socklab-code-") as tmp:
        link = Path(tmp) / "code"
        link.symlink_to(code, target_is_directory=True)
        yield link


def checker_argv(
    lab: Lab, context: Path, results: Path, select: str | None, hidden: bool = False
) -> list[str]:
    paths = [lab.checker, *([lab.hidden] if hidden and lab.hidden.is_dir() else [])]
    return [
        sys.executable,
        "-m",
        "pytest",
        *map(str, paths),
        "-p",
        "socklab.checking.plugin",
        "--socklab-context",
        str(context),
        "--socklab-result",
        str(results),
        "--socklab-deadline",
        str(lab.timeout),
        "-q",
        "-p",
        "no:cacheprovider",
        "--rootdir",
        str(lab.path),
        "-c",
        os.devnull,
        *(["-k", select] if select else []),
    ]


def checker_env() -> dict[str, str]:
    """The checker's environment: no pytest plugin but socklab's (loading every installed
    plugin costs the checker seconds at start, and none of them may change a verdict)."""
    return {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}


GRACE = 30  # seconds the checker process may run past the lab's limit before it is a hang


class Checker:
    """The lab's checker in its own process, started before the topology is up so that its
    imports and collection overlap the wait; ``results`` lets it go and collects its verdicts.

    A crash or a hang is a platform error. The checks themselves keep to the lab's time (the
    plugin times out the rest), so only a checker that hangs past that and a grace period is
    stopped from here.
    """

    def __init__(self, lab: Lab, artifacts: Path, select: str | None, hidden: bool = False) -> None:
        self.lab, self.artifacts = lab, artifacts
        self.context, self.results = artifacts / "context.json", artifacts / "checks.json"
        self.log = artifacts / "checker.log"
        read, self.go = os.pipe()
        argv = [*checker_argv(lab, self.context, self.results, select, hidden), "--socklab-go", str(read)]
        try:
            with self.log.open("wb") as log:
                # its own process group: stop() ends it with every probe it started, and it
                # ends itself so if this process dies (see plugin.watch_parent)
                self.proc = subprocess.Popen(
                    argv,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    env=checker_env(),
                    pass_fds=(read,),
                    start_new_session=True,
                )
        finally:
            os.close(read)

    def verdicts(self, ctx: RunContext) -> list[CheckResult]:
        ctx.save(self.context)
        with contextlib.suppress(BrokenPipeError):  # it died already: its exit code says how
            os.write(self.go, b"go\n")
        self.abandon()
        try:
            code = self.proc.wait(timeout=self.lab.timeout + GRACE)
        except subprocess.TimeoutExpired:
            raise PlatformError(
                _("the checker hung: still running {grace} s after the lab's {limit:g} s (see {log})").format(
                    grace=GRACE, limit=self.lab.timeout, log=self.log
                )
            ) from None
        # pytest: 0 all passed, 1 some failed, 5 nothing selected; anything else is a crash
        if code not in (0, 1, 5) or not self.results.exists():
            tail = "\n".join(self.log.read_text(errors="replace").splitlines()[-20:])
            raise PlatformError(
                _("the checker crashed (pytest exit {code}):").format(code=code) + f"\n{tail}"
            )
        return [CheckResult(**r) for r in json.loads(self.results.read_text())]

    def abandon(self) -> None:
        """Close the go pipe: a checker still waiting for it exits."""
        if self.go >= 0:
            os.close(self.go)
            self.go = -1

    def stop(self) -> None:
        self.abandon()
        with contextlib.suppress(ProcessLookupError):  # the group is gone already
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()


def conclude(result: LabResult, select: str | None, flooded: str | None = None) -> None:
    """Set the run's status from its checks: any check error is the platform's. A flood of
    the student's (``flooded``: in words) fails the run whatever its checks said: the link
    it was judged on was not the lab's."""
    errors = [c for c in result.checks if c.status == "error"]
    if flooded and not errors:
        result.status, result.message = "failed", flooded
    elif errors:
        result.status, result.message = "error", f"{errors[0].title}: {errors[0].message}"
    elif not result.checks:
        result.status = "error"
        result.message = "no check ran" + (f" (none matches -k {select!r})" if select else "")
    else:
        result.status = "passed" if all(c.passed for c in result.checks) else "failed"


def prepare(lab: Lab, profile: str, log: Callable[[str], None]) -> None:
    """What a run needs before its topology: the images built, a profile that exists."""
    built = images.ensure(images.for_lab(lab), log=log)
    if built:
        log(_("built images in {seconds:.0f} s").format(seconds=sum(built.values())))
    known_profile(profile)


def new_artifacts(lab: Lab, project: str, suffix: str = "") -> Path:
    """A new folder for a run's artifacts under runs_dir(), named for when, which lab, which run."""
    name = f"{datetime.now(timezone.utc):%Y%m%d-%H%M%S}-{lab.name}-{project.split('-')[-1]}"
    artifacts = runs_dir() / (f"{name}-{suffix}" if suffix else name)
    artifacts.mkdir(parents=True, exist_ok=True)
    return artifacts


def new_result(lab: Lab, code: Path, profile: str, seed: int, artifacts: Path) -> LabResult:
    """A run's result before its verdict: an error until the checks say otherwise."""
    return LabResult(
        lab=lab.name,
        title=lab.title,
        code=str(code),
        status="error",
        profile=profile,
        seed=seed,
        artifacts=str(artifacts),
        started_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        version=__version__,
    )


def judge(result: LabResult, select: str | None, impair: str | None, artifacts: Path) -> None:
    """The verdict from the checks and, on an impaired link (``impair``: its engine's
    container), the engine's health: a student's flood fails the run."""
    flooded = impairing.check_health(impair, artifacts) if impair else None
    conclude(result, select, flooded)


def run(
    lab: Lab,
    code: Path,
    *,
    select: str | None = None,
    seed: int | None = None,
    profile: str | None = None,
    reproduce: str = "",
    hidden: bool = False,
    log: Callable[[str], None] = lambda _m: None,
    show: Callable[[LabResult], None] = lambda _r: None,
) -> LabResult:
    """Run ``lab``'s checker on ``code``; always return a result, and leave nothing behind.

    ``profile`` replaces the lab's impairment profile; ``hidden`` adds the instructor-only
    checks (grading). ``show`` gets the result as soon as there is a verdict, before the
    teardown.
    """
    started = time.monotonic()
    seed = DEFAULT_SEED if seed is None else seed
    project = compose.new_project()
    artifacts = new_artifacts(lab, project)
    profile = profile or lab.profile
    impairment = None if profile == "clean" else compose.Impairment(profile, seed, artifacts)
    result = new_result(lab, code, profile, seed, artifacts)
    shown = False
    lapped = started

    def lap(phase: str) -> None:
        nonlocal lapped
        now = time.monotonic()
        result.phases[phase] = round(now - lapped, 3)
        lapped = now

    def finish() -> None:
        nonlocal shown
        result.duration = round(time.monotonic() - started, 3)
        save(result, artifacts / "result.json")
        if not shown:
            shown = True
            show(result)

    try:
        prepare(lab, profile, log)
        lap("images")
        checker = Checker(lab, artifacts, select, hidden)
        with contextlib.ExitStack() as stack:
            stack.callback(checker.stop)
            topo = stack.enter_context(topology(code.resolve(), project, impairment, lab.images))
            lap("network_up")
            ctx = RunContext(
                project=project,
                lab=str(lab.path),
                code=str(code.resolve()),
                artifacts=str(artifacts),
                addresses=topo.addresses(),
                profile=profile,
                seed=seed,
                reproduce=reproduce,
            )
            result.checks = checker.verdicts(ctx)
            judge(result, select, topo.container("impair") if impairment else None, artifacts)
            lap("checks")
            finish()
        lap("teardown")
    except SocklabError as exc:
        if shown:  # the verdict stands, but the teardown failed: that is the platform's
            log("socklab: error: " + _("cleaning up after the run failed: {error}").format(error=exc))
        result.status, result.message = (
            "error",
            str(exc) if not shown else _("cleaning up after the run failed: {error}").format(error=exc),
        )
    except KeyboardInterrupt:
        result.status, result.message = "error", _("interrupted (Ctrl-C)")
        raise
    finally:
        finish()
    return result
