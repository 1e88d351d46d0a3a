"""socklab's pytest plugin for lab checkers.

The runner starts pytest with ``-p socklab.checking.plugin --socklab-context FILE
--socklab-result FILE``. This plugin gives checks their fixtures (``ctx``, ``lab``,
``client``, ``server``, ``router`` testinfra hosts, ``programs``, ``impair`` the impaired
link), reads each check's ``@pytest.mark.points(n)`` and ``@pytest.mark.rules("R1", ...)``
(the README rules it enforces, quoted in its failure), enforces a time limit per check,
sorts every outcome into passed / failed / timeout / error, and writes the results for
the runner.

An ``AssertionError`` is the student's failure; a ``PlatformError`` or any other
exception is socklab's (the platform or the checker broke), never the student's.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
import testinfra
from testinfra.backend.base import CommandResult
from testinfra.backend.docker import DockerBackend

from socklab import impairing
from socklab import lab as labs
from socklab.checking import agent
from socklab.checking.context import USED_FILE, RunContext
from socklab.checking.programs import Programs, docker_exec, run_exec
from socklab.errors import PlatformError
from socklab.grading.result import CheckResult, write_atomic
from socklab.grading.text import capped, visible
from socklab.i18n import _, localized, pgettext

CTX = pytest.StashKey[RunContext]()
LAB = pytest.StashKey[labs.Lab]()
RESULTS = pytest.StashKey[dict[str, CheckResult]]()
PROGRAMS = pytest.StashKey[Programs]()
LOG_SIZES = pytest.StashKey[dict[str, int]]()  # each program's log size when a check began
DEADLINE = pytest.StashKey[float]()  # time.monotonic() when the lab's time is up
TIMEOUT_MESSAGE = pytest.StashKey[str]()
RULES = pytest.StashKey[dict[str, str]]()  # the lab README's numbered rules
README = pytest.StashKey[Path]()  # the README they are quoted from
USED = pytest.StashKey[dict[str, list[str]]]()  # check id: the programs it asked for


class CheckTimeout(Exception):
    """A check ran past its time limit (its own, or what was left of the lab's)."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("socklab")
    group.addoption("--socklab-context", help="the run's context file, written by the runner")
    group.addoption("--socklab-result", help="where to write the checks' results (JSON)")
    group.addoption(
        "--socklab-deadline",
        type=float,
        help="seconds for all the checks: when they are up, the rest time out",
    )
    group.addoption(
        "--socklab-go",
        type=int,
        metavar="FD",
        help="once collected, wait for 'go' on this file descriptor before loading "
        "the context and running (the runner starts the checker early)",
    )


def watch_parent() -> None:
    """End this checker, and every probe it started, as soon as the runner is gone.

    The runner starts the checker as the leader of its own process group; a runner killed
    with SIGKILL cannot stop it, so it stops itself (the reaper removes the containers).
    """
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.25)
        os.killpg(os.getpgrp(), signal.SIGKILL)

    threading.Thread(target=watch, name="socklab-watch-parent", daemon=True).start()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "points(n): how many points the check is worth")
    config.addinivalue_line("markers", "timeout(seconds): this check's own time limit")
    config.addinivalue_line("markers", "rules(*ids): the README rules the check enforces, e.g. 'R2'")
    config.stash[RESULTS] = {}
    config.stash[USED] = {}
    config.pluginmanager.register(_Skip(), "socklab-skip")
    if config.getoption("--socklab-go") is not None and os.getpgrp() == os.getpid():
        watch_parent()
    if config.getoption("--socklab-go") is None:
        _begin(config)


def _begin(config: pytest.Config) -> None:
    """Load the run's context and start the lab's clock."""
    path = config.getoption("--socklab-context")
    if path:
        config.stash[CTX] = RunContext.load(Path(path))
        config.stash[LAB] = labs.load(Path(config.stash[CTX].lab))  # read once, used by every check
        readme = localized(config.stash[LAB].readme)  # the rules quoted in the reader's language
        config.stash[README] = readme
        config.stash[RULES] = labs.rules_in(readme.read_text(encoding="utf-8")) if readme.is_file() else {}
        agent.warm([config.stash[CTX].container(host) for host in ("client", "server")])
    if seconds := config.getoption("--socklab-deadline"):
        config.stash[DEADLINE] = time.monotonic() + seconds


def pytest_collection_finish(session: pytest.Session) -> None:
    """Started early, the checker has imported and collected while the topology came up:
    wait for the runner's go (its context written), or stop when the run was abandoned."""
    fd = session.config.getoption("--socklab-go")
    if fd is None:
        return
    with os.fdopen(fd, "rb") as go:
        if go.readline().strip() != b"go":
            pytest.exit("the run was abandoned before the checks began", 2)
    _begin(session.config)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    missing = [item.nodeid for item in items if item.get_closest_marker("points") is None]
    if missing:
        raise pytest.UsageError(f"checks without @pytest.mark.points(n): {', '.join(missing)}")


@pytest.fixture(scope="session")
def ctx(pytestconfig: pytest.Config) -> RunContext:
    if CTX not in pytestconfig.stash:
        pytest.exit("a lab checker runs through socklab (socklab run N), not bare pytest", 4)
    return pytestconfig.stash[CTX]


@pytest.fixture(scope="session")
def lab(pytestconfig: pytest.Config, ctx: RunContext) -> labs.Lab:
    return pytestconfig.stash[LAB]


class _Backend(DockerBackend):
    """testinfra's Docker backend, its commands run through the container's agent (a fork
    there, not a ``docker exec`` each; see socklab/checking/agent.py)."""

    def run(self, command: str, *args: str, **kwargs: Any) -> CommandResult:
        cmd = self.get_command(command, *args)
        out = run_exec(self.name, ["/bin/sh", "-c", cmd])
        return self.result(out.returncode, self.encode(cmd), out.stdout, out.stderr)


def _host(ctx: RunContext, service: str) -> testinfra.host.Host:
    backend = _Backend(f"root@{ctx.container(service)}")
    host = testinfra.host.Host(backend)
    backend.set_host(host)
    return host


@pytest.fixture(scope="session")
def client(ctx: RunContext) -> testinfra.host.Host:
    return _host(ctx, "client")


@pytest.fixture(scope="session")
def server(ctx: RunContext) -> testinfra.host.Host:
    return _host(ctx, "server")


@pytest.fixture(scope="session")
def router(ctx: RunContext) -> testinfra.host.Host:
    return _host(ctx, "router")


@pytest.fixture(scope="session")
def programs(pytestconfig: pytest.Config, lab: labs.Lab, ctx: RunContext) -> Iterator[Programs]:
    progs = Programs(lab, ctx)
    pytestconfig.stash[PROGRAMS] = progs
    yield progs
    progs.stop_all()


@pytest.fixture
def impair(ctx: RunContext) -> Iterator[impairing.Link]:
    """The run's impaired link: scripted changes last for one check, then it is reset."""
    if ctx.profile == "clean":
        raise PlatformError(
            _(
                "this check needs the impairment engine, but the run's profile is "
                "clean: give the lab a profile in lab.toml"
            )
        )
    link = impairing.Link(ctx.container("impair"), Path(ctx.artifacts))
    yield link
    if link.changed:
        link.reset()


def _alarm(_signum: int, _frame: object) -> None:
    raise CheckTimeout


def _budget(item: pytest.Item) -> tuple[float, str]:
    """How long the check may take (setup included), and what to say when it overruns."""
    limit = _limit(item)
    deadline = item.config.stash.get(DEADLINE, None)
    if deadline is not None and deadline - time.monotonic() < limit:
        total = item.config.getoption("--socklab-deadline")
        return max(deadline - time.monotonic(), 0.001), _(
            "timed out: the lab's time limit of {total:g} s for all checks ran out"
        ).format(total=total)
    return limit, _("timed out after {seconds:g} s").format(seconds=limit)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    """Start the check's clock; on overrun its processes are killed in the report hook."""
    seconds, item.stash[TIMEOUT_MESSAGE] = _budget(item)
    if seconds <= 0.001:
        item.stash[TIMEOUT_MESSAGE] = _(
            "not run: the lab's time limit of {total:g} s for all checks ran out"
        ).format(total=item.config.getoption("--socklab-deadline"))
        raise CheckTimeout
    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Iterator[None]:
    signal.setitimer(signal.ITIMER_REAL, 0)
    yield


def _limit(item: pytest.Item) -> float:
    marker = item.get_closest_marker("timeout")
    if marker:
        return float(marker.args[0])
    return item.config.stash[LAB].check_timeout if LAB in item.config.stash else 30.0


def _title(item: pytest.Item) -> str:
    doc = getattr(item, "function", None).__doc__ if hasattr(item, "function") else None
    return doc.strip().splitlines()[0] if doc else item.name.removeprefix("test_").replace("_", " ")


def _classify(excinfo: pytest.ExceptionInfo[BaseException] | None) -> tuple[str, str]:
    """(status, message) of a check that raised, or passed."""
    if excinfo is None:
        return "passed", ""
    if excinfo.errisinstance(CheckTimeout):
        return "timeout", ""
    if excinfo.errisinstance(AssertionError):
        return "failed", str(excinfo.value).strip() or _("assertion failed")
    if excinfo.errisinstance(pytest.skip.Exception):
        return "skipped", str(excinfo.value)
    return "error", _("the checker itself failed, not your program ({error})").format(
        error=f"{excinfo.typename}: {excinfo.value}"
    )


def _log_sizes(item: pytest.Item) -> dict[str, int]:
    progs = item.config.stash.get(PROGRAMS, None)
    if progs is None:
        return {}
    return {n: progs.log_path(n).stat().st_size for n in progs.lab.programs if progs.log_path(n).exists()}


class _Skip:
    """The checks the context lists in ``skip`` do not run (watch mode keeps their last
    verdict: they ask for no program whose file was edited). They keep their place, and
    so the numbers of the others."""

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> bool | None:
        ctx = item.config.stash.get(CTX, None)
        return True if ctx is not None and item.name in ctx.skip else None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    item.stash[LOG_SIZES] = _log_sizes(item)
    if (progs := item.config.stash.get(PROGRAMS, None)) is not None:
        progs.used.clear()
    yield
    if (progs := item.config.stash.get(PROGRAMS, None)) is not None:
        item.config.stash[USED][item.name] = sorted(progs.used)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    yield
    results = item.config.stash[RESULTS]
    if call.when == "setup" or item.nodeid not in results:
        results[item.nodeid] = _new_result(item)
    result = results[item.nodeid]
    result.duration += call.duration
    if result.status != "passed" or (call.when == "setup" and call.excinfo is None):
        return  # the first failure is the one that counts; a passed setup decides nothing
    status, message = _classify(call.excinfo)
    if status == "passed":
        return
    result.status, result.points = status, 0  # type: ignore[assignment]
    if status == "timeout":
        message = item.stash.get(TIMEOUT_MESSAGE, _("timed out"))
        _kill_leftovers(item)
    elif status == "failed" and (progs := item.config.stash.get(PROGRAMS, None)) is not None:
        message = progs.hit_process_limit() or message
    result.message = visible(message)  # it may quote what a program sent or printed
    if status in ("failed", "timeout"):
        result.message += _quote_rules(item, result.rules)
    if status == "error" and call.excinfo is not None:
        result.evidence = str(call.excinfo.getrepr(style="short"))[-3000:]
    else:
        result.evidence = _program_output(item)


def rules_of(item: pytest.Item) -> list[str]:
    """The README rules a check cites with ``@pytest.mark.rules(...)``."""
    marker = item.get_closest_marker("rules")
    return [str(rule) for rule in marker.args] if marker else []


def _quote_rules(item: pytest.Item, rules: list[str]) -> str:
    """The rules a failed check enforces, quoted from the README, as the failure's last lines."""
    known = item.config.stash.get(RULES, {})
    ctx = item.config.stash.get(CTX, None)
    readme = item.config.stash.get(README, None)
    # the anchor of the Rules heading, in the README's language (## 规则 in README.zh-CN.md)
    anchor = pgettext("README heading", "rules") if readme and readme.name != "README.md" else "rules"
    where = (
        f"labs/{Path(ctx.lab).name}/{readme.name if readme else 'README.md'}#{anchor}"
        if ctx
        else _("the lab's README")
    )
    quoted = [f"{rule}. {known[rule]}" for rule in rules if rule in known]
    heading = _("the rule this breaks ({where}):").format(where=where)
    return f"\n{heading}\n" + "\n".join(quoted) if quoted else ""


def _new_result(item: pytest.Item) -> CheckResult:
    points = float(item.get_closest_marker("points").args[0])  # type: ignore[union-attr]
    ctx = item.config.stash.get(CTX, None)
    number = f"{int(Path(ctx.lab).name[:2]) if ctx else 0}.{_index(item)}"
    return CheckResult(
        id=item.name,
        title=_title(item),
        number=number,
        status="passed",
        points=points,
        max_points=points,
        hidden="hidden" in Path(str(item.path)).parts,
        rules=rules_of(item),
        reproduce=f"{ctx.reproduce} CHECK={item.name}" if ctx and ctx.reproduce else "",
    )


def _index(item: pytest.Item) -> int:
    session_items = item.session.items
    return session_items.index(item) + 1 if item in session_items else 0


def _program_output(item: pytest.Item) -> str:
    """What each program printed during this check: the tail of its log since the check began."""
    progs = item.config.stash.get(PROGRAMS, None)
    if progs is None:
        return ""
    parts = []
    before = item.stash.get(LOG_SIZES, {})
    for name in progs.lab.programs:
        path = progs.log_path(name)
        if not path.exists():
            continue
        with path.open("rb") as log:
            start = max(before.get(name, 0), path.stat().st_size - 64 * 1024)  # the tail is enough
            log.seek(start)
            lines = log.read().decode(errors="replace").splitlines()[-12:]
        if lines:
            parts.append(
                _(
                    "{program}'s output during this check (last lines; all of it in "
                    "{log} in the run's artifacts):"
                ).format(program=name, log=path.name)
                + "\n"
                + "\n".join(f"  | {visible(capped(line))}" for line in lines)
            )
    return "\n".join(parts)


def _kill_leftovers(item: pytest.Item) -> None:
    """After a timeout: stop the student's programs and any probe still running."""
    progs = item.config.stash.get(PROGRAMS, None)
    if progs is not None:
        progs.stop_all()
    ctx = item.config.stash.get(CTX, None)
    if ctx is None:
        return
    for service in ("client", "server"):
        subprocess.run(
            docker_exec(ctx.container(service), ["pkill", "-KILL", "-f", "/socklab/"]),
            capture_output=True,
            check=False,
        )


def pytest_sessionfinish(session: pytest.Session) -> None:
    agent.close_all()
    path = session.config.getoption("--socklab-result")
    if path:
        results = [asdict(r) for r in session.config.stash[RESULTS].values()]
        write_atomic(Path(path), json.dumps(results, indent=2))
        write_atomic(Path(path).with_name(USED_FILE), json.dumps(session.config.stash[USED], indent=2))
