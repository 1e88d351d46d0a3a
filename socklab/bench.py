"""``make bench``: measure, and write docs/benchmarks.json and docs/benchmarks.md.

Each suite returns figures (name, value, unit, the command that measures it, how).
Running some suites replaces only their figures in the JSON; the Markdown is rewritten
from the whole JSON. Benchmarks report figures; tests, not benchmarks, check correctness.

  python -m socklab.bench [SUITE ...]     (default: every suite)
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from socklab import engine, images, runner
from socklab import lab as labs
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


def time_to_verdict(argv: list[str], verdict: str = "PASSED") -> tuple[float, float]:
    """(seconds until the verdict line is printed, seconds until the command exits)."""
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            cwd=ROOT)
    seen = None
    assert proc.stdout is not None
    for line in proc.stdout:
        if seen is None and line.startswith(verdict):
            seen = time.monotonic() - start
    proc.wait()
    if proc.returncode != 0 or seen is None:
        raise SystemExit(f"{' '.join(argv)} did not pass (exit {proc.returncode})")
    return seen, time.monotonic() - start


def platform_suite() -> list[Figure]:
    """Lab 1 warm (median of 5) and cold (images rebuilt from Debian packages), image sizes."""
    run = [*SOCKLAB, "run", "1"]
    time_to_verdict(run)  # warm-up: images built, caches filled
    warm = [time_to_verdict(run) for _ in range(5)]
    start = time.monotonic()
    images.ensure(images.ALL, force=True)
    build = time.monotonic() - start
    cold_verdict, _ = time_to_verdict(run)
    figures = [
        Figure("platform", "lab 1, warm: time to verdict (median of 5)",
               round(statistics.median(v for v, _ in warm), 2), "s", "make lab-1",
               "images built; from starting `socklab run 1` to the verdict line"),
        Figure("platform", "lab 1, warm: time to exit, teardown included (median of 5)",
               round(statistics.median(t for _, t in warm), 2), "s", "make lab-1",
               "as above, until the command exits"),
        Figure("platform", "lab 1, cold: image build + time to verdict",
               round(build + cold_verdict, 1), "s", "make clean-images && make lab-1",
               "every image rebuilt from Debian packages (debootstrap), then a run"),
        Figure("platform", "image build from Debian packages (all images)", round(build, 1), "s",
               "socklab images --force", "debootstrap of the base, then host and router"),
    ]
    for spec in images.SPECS:
        size = engine.client().images.get(spec.tag).attrs["Size"]
        figures.append(Figure("platform", f"image size: {spec.tag}", round(size / 1e6), "MB",
                              "docker image ls", "as Docker reports it (layers shared)"))
    return figures


def grading_suite() -> list[Figure]:
    """Each lab's solution graded 5 times (hidden checks included, warm images): the median
    time, and the grader's overhead beyond the checks (topology, checker start, teardown)."""
    images.ensure()
    figures = []
    for lab in labs.all_labs():
        totals, overheads = [], []
        for _ in range(5):
            start = time.monotonic()
            result = runner.run(lab, lab.solution, hidden=True)
            total = time.monotonic() - start
            if result.status != "passed":
                raise SystemExit(f"{lab.name}'s solution did not pass: {result.message}")
            totals.append(total)
            overheads.append(total - sum(c.duration for c in result.checks))
        command = f"socklab grade {lab.number} labs/{lab.name}/solution"
        figures += [
            Figure("grading", f"{lab.name}: time to grade (median of 5)",
                   round(statistics.median(totals), 2), "s", command,
                   "runner.run with hidden checks, teardown included"),
            Figure("grading", f"{lab.name}: grader overhead beyond the checks (median of 5)",
                   round(statistics.median(overheads), 2), "s", command,
                   "total minus the checks' own durations"),
        ]
    return figures


SUITES: dict[str, Callable[[], list[Figure]]] = {"platform": platform_suite,
                                                 "grading": grading_suite}


def load() -> list[dict]:
    path = DOCS / "benchmarks.json"
    return json.loads(path.read_text())["figures"] if path.exists() else []


def render(figures: list[dict], machine: str, when: str) -> str:
    lines = ["# Benchmarks", "",
             "Written by `make bench` (`python -m socklab.bench [SUITE ...]`); do not edit by hand.",
             f"Last run: {when} on {machine}.", ""]
    for suite in dict.fromkeys(f["suite"] for f in figures):
        lines += [f"## {suite}", "", "| figure | value | command | how |", "|---|---|---|---|"]
        lines += [f"| {f['name']} | {f['value']:g} {f['unit']} | `{f['command']}` | {f['how']} |"
                  for f in figures if f["suite"] == suite]
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    chosen = argv or list(SUITES)
    unknown = [s for s in chosen if s not in SUITES]
    if unknown:
        print(f"unknown suite {unknown[0]!r}; suites: {', '.join(SUITES)}", file=sys.stderr)
        return 2
    figures = [f for f in load() if f["suite"] not in chosen]
    for suite in chosen:
        print(f"bench: {suite} ...", flush=True)
        figures += [asdict(f) for f in SUITES[suite]()]
    machine = f"{platform.system()} {platform.release()}, {platform.machine()}, {os.cpu_count()} cores"
    when = datetime.now(UTC).isoformat(timespec="minutes")
    write_atomic(DOCS / "benchmarks.json",
                 json.dumps({"machine": machine, "when": when, "figures": figures}, indent=2) + "\n")
    write_atomic(DOCS / "benchmarks.md", render(figures, machine, when))
    print((DOCS / "benchmarks.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
