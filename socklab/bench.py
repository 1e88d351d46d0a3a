"""``make bench``: measure, and write docs/benchmarks.json and docs/benchmarks.md.

Each suite returns figures (name, value, unit, the command that measures it, how).
Running some suites replaces only their figures in the JSON; the Markdown is rewritten
from the whole JSON. Benchmarks report figures; tests, not benchmarks, check correctness.

  python -m socklab.bench [SUITE ...]     (default: every suite)
  python -m socklab.bench reliability:6,7  (that suite for labs 6 and 7 only)
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from socklab import bench_delay, bench_first_run, compose, engine, images, impairing, mutation, runner
from socklab import lab as labs
from socklab import watch as watching
from socklab.classroom import batch
from socklab.grading.result import write_atomic

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
SOCKLAB = [sys.executable, "-m", "socklab.cli"]


@dataclass(frozen=True)
class Figure:
    suite: str
    name: str
    value: float
    unit: str
    command: str
    how: str


@dataclass(frozen=True)
class Timed:
    verdict: float  # seconds from the command's start until the verdict line is printed
    exit: float  # ... until it exits, teardown included
    phases: dict[str, float]  # the run's own account (LabResult.phases)

    @property
    def before_run(self) -> float:
        """Seconds before the run began: the interpreter and socklab's imports."""
        return self.verdict - sum(v for k, v in self.phases.items() if k != "teardown")


def time_to_verdict(argv: list[str], verdict: str = "PASSED") -> Timed:
    with tempfile.TemporaryDirectory(prefix="socklab-bench-runs-") as runs:
        start = time.monotonic()
        proc = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=ROOT,
            env={**os.environ, "SOCKLAB_RUNS": runs},
        )
        seen = None
        assert proc.stdout is not None
        for line in proc.stdout:
            if seen is None and line.startswith(verdict):
                seen = time.monotonic() - start
        proc.wait()
        if proc.returncode != 0 or seen is None:
            raise SystemExit(f"{' '.join(argv)} did not pass (exit {proc.returncode})")
        result = json.loads(next(Path(runs).glob("*/result.json")).read_text())
    return Timed(seen, time.monotonic() - start, result.get("phases", {}))


PHASES = {  # LabResult.phases, as the benchmarks explain them
    "images": "checking that the images are up to date (hashes of their inputs)",
    "network_up": "Compose brings up the topology; the routes set; the checker meanwhile "
    "starts and collects its checks",
    "checks": "the checks, from the checker's go to its exit",
    "teardown": "after the verdict: the checker stopped, Compose takes the topology down",
}


def platform_suite() -> list[Figure]:
    """Lab 1 warm (median of 5) and cold (images rebuilt from Debian packages), image sizes."""
    run = [*SOCKLAB, "run", "1"]
    time_to_verdict(run)  # warm-up: images built, caches filled
    warm = [time_to_verdict(run) for _ in range(5)]
    start = time.monotonic()
    images.ensure(images.ALL, force=True)
    build = time.monotonic() - start
    cold_verdict = time_to_verdict(run).verdict
    figures = [
        Figure(
            "platform",
            "lab 1, warm: time to verdict (median of 5)",
            round(statistics.median(t.verdict for t in warm), 2),
            "s",
            "make lab-1",
            f"images built; from starting `socklab run 1` to the verdict line; range "
            f"{min(t.verdict for t in warm):.2f}-{max(t.verdict for t in warm):.2f} s",
        ),
        Figure(
            "platform",
            "lab 1, warm: time to exit, teardown included (median of 5)",
            round(statistics.median(t.exit for t in warm), 2),
            "s",
            "make lab-1",
            "as above, until the command exits",
        ),
        Figure(
            "platform",
            "lab 1, warm: before the run (median of 5)",
            round(statistics.median(t.before_run for t in warm), 2),
            "s",
            "make lab-1",
            "the interpreter and socklab's imports, then printing the verdict: time to "
            "verdict minus the run's own phases",
        ),
        *(
            Figure(
                "platform",
                f"lab 1, warm: phase {phase} (median of 5)",
                round(statistics.median(t.phases.get(phase, 0.0) for t in warm), 2),
                "s",
                "make lab-1",
                PHASES[phase],
            )
            for phase in PHASES
        ),
        Figure(
            "platform",
            "lab 1, cold: image build + time to verdict",
            round(build + cold_verdict, 1),
            "s",
            "make clean-images && make lab-1",
            "every image rebuilt from Debian packages (debootstrap), then a run",
        ),
        Figure(
            "platform",
            "image build from Debian packages (all images)",
            round(build, 1),
            "s",
            "socklab images --force",
            "debootstrap of the base, then host and router",
        ),
    ]
    for spec in images.SPECS:
        if images.current_hash(spec.tag) is None:
            continue  # an image no lab has needed yet (the browser's)
        size = engine.client().images.get(spec.tag).attrs["Size"]
        figures.append(
            Figure(
                "platform",
                f"image size: {spec.tag}",
                round(size / 1e6),
                "MB",
                "docker image ls",
                "as Docker reports it (layers shared)",
            )
        )
    return figures


def grading_suite() -> list[Figure]:
    """Each lab's solution graded 5 times (hidden checks included, warm images): the median
    time to the verdict, and the grader's overhead beyond the checks (from the run's phases)."""
    images.ensure(images.EVERY)
    figures = []
    for lab in labs.all_labs():
        verdicts, overheads = [], []
        for _ in range(5):
            result = runner.run(lab, lab.solution, hidden=True)
            if result.status != "passed":
                raise SystemExit(f"{lab.name}'s solution did not pass: {result.message}")
            verdict = sum(v for k, v in result.phases.items() if k != "teardown")
            verdicts.append(verdict)
            overheads.append(verdict - sum(c.duration for c in result.checks))
        command = f"socklab grade {lab.number} labs/{lab.name}/solution"
        figures += [
            Figure(
                "grading",
                f"{lab.name}: time to verdict (median of 5)",
                round(statistics.median(verdicts), 2),
                "s",
                command,
                f"runner.run with hidden checks, until the verdict (teardown not included); "
                f"range {min(verdicts):.1f}-{max(verdicts):.1f} s",
            ),
            Figure(
                "grading",
                f"{lab.name}: grader overhead beyond the checks (median of 5)",
                round(statistics.median(overheads), 2),
                "s",
                command,
                "time to verdict minus the checks' own durations: images check, topology "
                "up, the checker's start and its waits between checks",
            ),
        ]
    return figures


RUNS = int(os.environ.get("SOCKLAB_RUNS_EACH", "20"))  # gradings of each design and bad/ case


def _graded(lab: labs.Lab, code: Path, bad: labs.BadSubmission | None) -> tuple[list[str], list[float]]:
    """Grade ``code`` RUNS times, seeds 1 to RUNS: the failures (a correct design that did not
    pass, a bad/ case its check did not catch), and the load at each grading."""
    failures, loads = [], []
    meant = lab.checks_citing(bad.rule) if bad and bad.rule else []
    for seed in range(1, RUNS + 1):
        loads.append(os.getloadavg()[0])
        result = runner.run(lab, code, hidden=True, seed=seed, select=" or ".join(meant) or None)
        by_id = {c.id: c for c in result.checks}
        if bad is None:
            ok = result.status == "passed"
        else:
            ok = (
                result.status == "failed"
                and bad.caught_by in by_id
                and by_id[bad.caught_by].status in ("failed", "timeout")
            )
        print(f"bench: {lab.name} {code.name} seed {seed}: {result.status}", flush=True)
        if not ok:
            odd = [f"{c.id} {c.status}" for c in result.checks if not c.passed] or [result.message[:200]]
            failures.append(f"seed {seed}: {result.status} ({', '.join(odd)}; artifacts {result.artifacts})")
    return failures, loads


def reliability_suite(only: list[str] | None = None) -> list[Figure]:
    """Each lab's correct designs graded RUNS times under its own profile (hidden checks
    included), seeds 1 to RUNS, and each bad/ case (only the checks citing its rule): how
    many passed, how many were caught, and what went wrong with which seed."""
    images.ensure(images.EVERY)
    figures = []
    for lab in labs.all_labs():
        if only and str(lab.number) not in only:
            continue
        cases: list[tuple[Path, labs.BadSubmission | None]] = [(c, None) for c in lab.solutions()]
        cases += [(bad.path, bad) for bad in lab.bad_submissions()]
        for code, bad in cases:
            rel = code.relative_to(lab.path)
            if bad is None:
                failures, loads = _graded(lab, code, None)
                name, command = (
                    f"{lab.name}: {rel} passes",
                    f"socklab grade {lab.number} labs/{lab.name}/{rel} --seed $s",
                )
            else:
                laid = labs.lay_over(lab.solution, code)
                try:
                    failures, loads = _graded(lab, laid, bad)
                finally:
                    shutil.rmtree(laid)
                name, command = (
                    f"{lab.name}: {rel} caught by {bad.caught_by}",
                    f"socklab run {lab.number} --bad {bad.name} --seed $s",
                )
            figures.append(
                Figure(
                    "reliability",
                    f"{name} (seeds 1-{RUNS})",
                    RUNS - len(failures),
                    f"of {RUNS}",
                    f"for s in $(seq {RUNS}); do {command}; done",
                    f"profile {lab.profile}, hidden checks included; graded "
                    f"{datetime.now(timezone.utc):%Y-%m-%dT%H:%M}, 1-minute load average "
                    f"{min(loads):.1f} to {max(loads):.1f}"
                    + (f"; failed: {'; '.join(failures)}" if failures else ""),
                )
            )
    return figures


def _class_of(n: int, root: Path) -> Path:
    """``n`` submissions of lab 1: solutions, starters and known-wrong ones, in turn."""
    lab = labs.find("1")
    kinds = [lab.solution, lab.starter, *(b.path for b in lab.bad_submissions())]
    for i in range(n):
        kind, dest = kinds[i % len(kinds)], root / f"student{i:02d}"
        if kind in (lab.solution, lab.starter):
            shutil.copytree(kind, dest)
        else:
            laid = labs.lay_over(lab.solution, kind)
            shutil.move(laid, dest)
    return root


def classroom_suite(n: int = 8) -> list[Figure]:
    """Batch grading throughput: lab 1, ``n`` submissions, K = 1, 2 and 4 at once, each
    student on a fresh network; then K = 1 and 2 with one network per job (--reuse-network)."""
    figures = []
    with tempfile.TemporaryDirectory(prefix="socklab-bench-") as tmp:
        subs = _class_of(n, Path(tmp) / "subs")
        for k, reuse in ((1, False), (2, False), (4, False), (1, True), (2, True)):
            argv = [
                *SOCKLAB,
                "grade-all",
                "1",
                str(subs),
                "--jobs",
                str(k),
                "--out",
                f"{tmp}/out-{k}-{reuse}",
                *(["--reuse-network"] if reuse else []),
            ]
            log = Path(tmp) / f"grade-all-{k}-{reuse}.log"
            start = time.monotonic()
            with log.open("w") as out:
                proc = subprocess.Popen(
                    argv,
                    cwd=ROOT,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    env={**os.environ, "SOCKLAB_RUNS": f"{tmp}/runs"},
                )
            loads = []  # the machine is shared: say how loaded it was meanwhile
            while True:
                loads.append(os.getloadavg()[0])
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=2)
                    break
            seconds = time.monotonic() - start
            if proc.returncode != 0:
                raise SystemExit(
                    f"{' '.join(argv)} failed (exit {proc.returncode}):\n{log.read_text()[-3000:]}"
                )
            figures.append(
                Figure(
                    "classroom",
                    f"lab 1, {n} submissions, K = {k}{', one network per job' if reuse else ''}: throughput",
                    round(n * 60 / seconds, 2),
                    "submissions/min",
                    f"make grade-all LAB=1 DIR=submissions JOBS={k}{' REUSE=1' if reuse else ''}",
                    f"{n} submissions (solutions, starters, known-wrong) graded in {seconds:.0f} s, "
                    f"hidden checks included; 1-minute load average meanwhile {min(loads):.1f} to "
                    f"{max(loads):.1f} (mean {statistics.fmean(loads):.1f})",
                )
            )
    return figures


def _bulk(topo: compose.Topology, size: int) -> dict:
    """One-way TCP, client to server, through the router; the sender's view."""
    sink = subprocess.Popen(
        ["docker", "exec", topo.container("server"), "python3", "/socklab/bulk.py", "sink", "--port", "9000"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert sink.stdout is not None and "listening" in sink.stdout.readline()
    out = subprocess.run(
        [
            "docker",
            "exec",
            topo.container("client"),
            "python3",
            "/socklab/bulk.py",
            "send",
            "--host",
            "server",
            "--port",
            "9000",
            "--bytes",
            str(size),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    received = json.loads(sink.communicate(timeout=120)[0].strip().splitlines()[-1])
    sent = json.loads(out)
    if received["sha256"] != sent["sha256"]:
        raise SystemExit("bulk transfer through the router arrived damaged")
    return sent


def _late(topo: compose.Topology, link: impairing.Link, rate: int, seconds: float = 3.0) -> dict:
    """Send UDP at ``rate`` packets/s through a fixed 5 ms delay; the engine's own account
    of how late it released them (actual release minus intended)."""
    link.set(config={"c2s": {"delay_ms": 5}})
    subprocess.run(
        [
            "docker",
            "exec",
            topo.container("client"),
            "python3",
            "/socklab/probe.py",
            "udp-send",
            "--host",
            "server",
            "--port",
            "9001",
            "--count",
            str(int(rate * seconds)),
            "--interval-ms",
            str(1000 / rate),
        ],
        capture_output=True,
        check=True,
    )
    return next(r for r in link.stats()["rules"] if r.get("direction") == "c2s")


TRANSFERS = 3  # bulk transfers per figure: one varies by some 10 % from the next


def impair_suite() -> list[Figure]:
    """The engine beside plain forwarding in one run: TCP throughput, packets/s, delay precision."""
    images.ensure()
    size = 200_000_000
    code = labs.find("1").solution
    with runner.topology(code, compose.new_project("socklab-bench")) as topo:
        plain = [_bulk(topo, size)["mb_per_s"] for _ in range(TRANSFERS)]
    through, rates = [], []
    with tempfile.TemporaryDirectory(prefix="socklab-bench-") as tmp:
        Path(tmp).chmod(0o777)
        impairment = compose.Impairment("clean", 1, Path(tmp))
        with runner.topology(code, compose.new_project("socklab-bench"), impairment) as topo:
            link = impairing.Link(topo.container("impair"), Path(tmp))
            for _ in range(TRANSFERS):
                before = sum(r.get("packets", 0) for r in link.stats()["rules"])
                sent = _bulk(topo, size)
                packets = sum(r.get("packets", 0) for r in link.stats()["rules"]) - before
                through.append(sent["mb_per_s"])
                rates.append(packets / sent["elapsed"])
            lateness = {rate: _late(topo, link, rate) for rate in (1000, 10000)}
    how = (
        f"200 MB one-way TCP, client to server through the router (socklab/probes/bulk.py); "
        f"median of {TRANSFERS} transfers"
    )
    figures = [
        Figure(
            "impair",
            "TCP throughput, plain kernel forwarding",
            round(statistics.median(plain), 1),
            "MB/s",
            "make bench",
            how,
        ),
        Figure(
            "impair",
            "TCP throughput through the engine, no impairment",
            round(statistics.median(through), 1),
            "MB/s",
            "make bench",
            how + "; every packet queued, decided and logged",
        ),
        Figure(
            "impair",
            "packets per second through the engine (TCP bulk)",
            round(statistics.median(rates)),
            "packets/s",
            "make bench",
            f"packets the engine decided during a bulk transfer / its duration; median of "
            f"{TRANSFERS} (each: {', '.join(f'{r:.0f}' for r in rates)})",
        ),
    ]
    for rate, rule in lateness.items():
        late = rule.get("late_ms") or {}
        for q in ("p50", "p99"):
            figures.append(
                Figure(
                    "impair",
                    f"release lateness {q} at {rate} packets/s (the engine's own account)",
                    late.get(q, float("nan")),
                    "ms",
                    "make bench",
                    "actual release − planned release (late_ms) of a fixed 5 ms "
                    "delay, counted from the kernel's arrival time, UDP at that "
                    "rate for 3 s, from the engine's statistics; the suite "
                    "'delay' measures the same on the wire",
                )
            )
    return figures


MUTANTS = int(os.environ.get("SOCKLAB_MUTANTS", "40"))  # sampled per lab (seed 1); 0: all


def mutation_suite(only: list[str] | None = None) -> list[Figure]:
    """Each lab's checker against mutants of its solution (socklab/mutation.py)."""
    images.ensure(images.EVERY)
    figures = []
    for lab in labs.all_labs():
        if only and str(lab.number) not in only:
            continue
        loads = [os.getloadavg()[0]]
        score = mutation.score_lab(lab, MUTANTS or None, seed=1, log=print)
        loads.append(os.getloadavg()[0])
        survivors = (
            "; ".join(
                f"{m.where} (`{m.change.replace('|', '¦')}`)" if m.change else m.where for m in score.survived
            )
            or "none"
        )
        figures.append(
            Figure(
                "mutation",
                f"{lab.name}: mutants killed",
                round(score.percent, 1),
                "%",
                f"SOCKLAB_MUTANTS={MUTANTS} python -m socklab.bench mutation:{lab.number}",
                f"killed {len(score.killed)} of {len(score.killed) + len(score.survived)} "
                f"non-equivalent mutants ({len(score.run)} run of the {score.total} cosmic-ray makes of "
                f"solution/, sampled with seed {score.seed}; {len(score.equivalent)} judged equivalent "
                f"in labs/{lab.name}/mutation.toml; {len(score.errors)} platform errors, not counted); "
                f"survivors: {survivors}; load {min(loads):.1f} to {max(loads):.1f}",
            )
        )
    return figures


WATCH_SAVES = 5  # saves of lab 1's server in the watch suite's latency figure


def watch_suite(only: list[str] | None = None) -> list[Figure]:
    """Watch mode: lab 1's verdict after a save (median of WATCH_SAVES), then each lab's bad/
    cases and designs, one after another in one session per lab, judged as test_labs judges a
    fresh run (every check of the lab runs: watch mode runs them all)."""
    images.ensure(images.EVERY)
    figures = []
    with tempfile.TemporaryDirectory(prefix="socklab-bench-watch-") as tmp:
        if not only or "1" in only:
            lab = labs.find("1")
            code = Path(tmp) / "lab1"
            shutil.copytree(lab.solution, code)
            loads = [os.getloadavg()[0]]
            with watching.Session(lab, code) as session:
                session.round()  # warm: the first round's checker started with the topology
                saves = {name: _saves(session, code / name) for name in ("server.py", "client.py")}
            loads.append(os.getloadavg()[0])
            for name, (latencies, _rounds, kept) in saves.items():
                figures.append(
                    Figure(
                        "watch",
                        f"lab 1: save {name} to verdict (median of {WATCH_SAVES})",
                        round(statistics.median(latencies), 2),
                        "s",
                        "make lab-1 WATCH=1",
                        f"from writing {name} to the verdict, in one watch session (the poll, "
                        f"{watching.SETTLE} s for the editor to finish, the reset, the checks that "
                        f"start it; {kept} of {len(lab.checks())} kept their verdict); range "
                        f"{min(latencies):.2f}-{max(latencies):.2f} s; "
                        f"load {min(loads):.1f} to {max(loads):.1f}",
                    )
                )
            figures.append(
                Figure(
                    "watch",
                    f"lab 1: a round, reset included, every check (median of {WATCH_SAVES})",
                    round(statistics.median(saves["server.py"][1]), 2),
                    "s",
                    "make lab-1 WATCH=1",
                    "from the round's start to its verdict: the reset of the topology, then the checks",
                )
            )
        for lab in labs.all_labs():
            if only and str(lab.number) not in only:
                continue
            figures.append(_watch_cases(lab, Path(tmp) / lab.name))
    return figures


def _saves(session: watching.Session, path: Path) -> tuple[list[float], list[float], int]:
    """WATCH_SAVES saves of ``path``, each a round: the times from the save to the verdict,
    the times of the rounds (the same edit once more with every check: the round's cost),
    and how many checks the save's rounds kept."""
    latencies, rounds, kept = [], [], 0
    before = watching.snapshot(session.code)
    for i in range(WATCH_SAVES):
        saved = time.monotonic()
        path.write_text(path.read_text() + f"# save {i}\n")
        before, edited = watching.wait_for_change(session.code, before)
        session.round(edited)
        latencies.append(time.monotonic() - saved)
        kept = len(session.kept)
        rounds.append(session.round().duration)  # every check: nothing said what was edited
    return latencies, rounds, kept


def _watch_cases(lab: labs.Lab, code: Path) -> Figure:
    """Every bad/ case of ``lab`` and every design, in one watch session: how many got the
    verdict a fresh run gets (a design passes whole; a bad case fails its own check)."""
    code.mkdir()
    cases: list[tuple[str, Path, labs.BadSubmission | None]] = [
        *((f"bad/{b.name}", b.path, b) for b in lab.bad_submissions()),
        *((str(d.relative_to(lab.path)), d, None) for d in lab.solutions()),
    ]
    hidden = {c.name for c in lab.checks() if c.hidden}
    wrong, loads = [], [os.getloadavg()[0]]
    with watching.Session(lab, code) as session:
        for name, source, bad in cases:
            # the student's folder becomes this case's code: a design as it is, a bad case
            # laid over the solution (as tests/integration/test_labs.py runs them)
            laid = labs.lay_over(lab.solution, source) if bad is not None else source
            try:
                batch.stage(laid, code)
            finally:
                if bad is not None:
                    shutil.rmtree(laid)
            result = session.round()
            by_id = {c.id: c.status for c in result.checks}
            if bad is None:
                ok = result.status == "passed" and result.score == lab.points
            else:
                ok = bad.caught_by in hidden or (
                    result.status == "failed" and by_id.get(bad.caught_by) in ("failed", "timeout")
                )
            if not ok:
                wrong.append(f"{name}: {result.status} {result.message}".strip())
            loads.append(os.getloadavg()[0])
        rebuilt = session.rebuilds
    return Figure(
        "watch",
        f"{lab.name}: rounds with a fresh run's verdict",
        len(cases) - len(wrong),
        "",
        f"python -m socklab.bench watch:{lab.number}",
        f"of {len(cases)} (every bad/ case and design, one session; topology rebuilt "
        f"{rebuilt} times); wrong: {'; '.join(wrong) or 'none'}; load {min(loads):.1f} to "
        f"{max(loads):.1f}",
    )


def delay_suite() -> list[Figure]:
    """The delay's error on the wire, from captures on the router (socklab/bench_delay.py)."""
    images.ensure()
    return [
        Figure("delay", name, value, unit, "make bench SUITES=delay", how)
        for name, value, unit, how in bench_delay.suite()
    ]


def first_run_suite() -> list[Figure]:
    """A student's first make lab-1 on each image path (socklab/bench_first_run.py)."""
    load = f"; 1-minute load average {os.getloadavg()[0]:.1f} at the start"
    return [
        Figure("first-run", name, value, unit, command, how + load)
        for name, value, unit, command, how in bench_first_run.suite()
    ]


SUITES: dict[str, Callable[..., list[Figure]]] = {
    "platform": platform_suite,
    "grading": grading_suite,
    "reliability": reliability_suite,
    "classroom": classroom_suite,
    "impair": impair_suite,
    "delay": delay_suite,
    "mutation": mutation_suite,
    "first-run": first_run_suite,
    "watch": watch_suite,
}
# suites that take ``SUITE:1,4``: only those labs, the rest kept
SUBSETS = ("reliability", "mutation", "watch")


def load() -> tuple[list[dict], dict[str, dict]]:
    """The figures so far, and when each suite ran and how loaded the machine was."""
    path = DOCS / "benchmarks.json"
    if not path.exists():
        return [], {}
    data = json.loads(path.read_text())
    return data["figures"], data.get("runs", {})


def render(figures: list[dict], runs: dict[str, dict], machine: str) -> str:
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`python -m socklab.bench [SUITE ...]`); do not edit by hand.",
        f"Machine: {machine}. A figure taken on a busy machine says so: the 1-minute load "
        "average during each suite's run is given (on an idle 2-core machine it is below 1).",
        "",
    ]
    for suite in dict.fromkeys(f["suite"] for f in figures):
        run = runs.get(suite, {})
        lines += [
            f"## {suite}",
            "",
            f"Run {run.get('when', '?')}; load average {run.get('load', '?')}.",
            "",
            "| figure | value | command | how |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| {f['name']} | {f['value']:g} {f['unit']} | `{f['command']}` | {f['how']} |"
            for f in figures
            if f["suite"] == suite
        ]
        lines.append("")
    return "\n".join(lines)


def parse(argv: list[str]) -> list[tuple[str, list[str] | None]]:
    """``SUITE`` or ``SUITE:1,4`` (some labs only, for the suites in SUBSETS)."""
    chosen = []
    for spec in argv or list(SUITES):
        suite, _, only = spec.partition(":")
        if suite not in SUITES:
            raise SystemExit(f"unknown suite {suite!r}; suites: {', '.join(SUITES)}")
        if only and suite not in SUBSETS:
            raise SystemExit(f"suite {suite!r} runs whole (only {', '.join(SUBSETS)} take :LABS)")
        chosen.append((suite, only.split(",") if only else None))
    return chosen


def merge(previous: list[dict], new: list[dict], suite: str, whole: bool) -> list[dict]:
    """The figures with a suite's new ones in: all its old ones out when it ran whole, else
    those the new ones replace."""
    names = {f["name"] for f in new}
    others = [f for f in previous if f["suite"] != suite]
    kept = [] if whole else [f for f in previous if f["suite"] == suite and f["name"] not in names]
    return others + (new if whole else sorted(kept + new, key=lambda f: f["name"]))


def main(argv: list[str]) -> int:
    try:
        chosen = parse(argv)
    except SystemExit as exc:
        print(exc, file=sys.stderr)
        return 2
    figures, runs = load()
    for suite, only in chosen:
        print(f"bench: {suite}{f' (labs {only})' if only else ''} ...", flush=True)
        before = os.getloadavg()[0]
        new = [asdict(f) for f in (SUITES[suite](only) if only else SUITES[suite]())]
        figures = merge(figures, new, suite, whole=only is None)
        runs[suite] = {
            "when": datetime.now(timezone.utc).isoformat(timespec="minutes"),
            "load": f"{before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"
            + (f" (labs {','.join(only)} this time)" if only else ""),
        }
    machine = f"{platform.system()} {platform.release()}, {platform.machine()}, {os.cpu_count()} cores"
    write_atomic(
        DOCS / "benchmarks.json",
        json.dumps({"machine": machine, "runs": runs, "figures": figures}, indent=2) + "\n",
    )
    write_atomic(DOCS / "benchmarks.md", render(figures, runs, machine))
    print((DOCS / "benchmarks.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
