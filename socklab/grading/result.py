"""The one internal result of a lab run; every report format is written from it."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

CheckStatus = Literal["passed", "failed", "timeout", "error", "skipped"]
RunStatus = Literal["passed", "failed", "error"]  # error: the platform failed, not the student


@dataclass
class CheckResult:
    """One check: what it is, how it went, and the evidence when it failed."""

    id: str  # the check's function name, e.g. "test_echo_1mib"
    title: str  # one line a student reads
    number: str  # "1.3": lab 1, third check
    status: CheckStatus
    points: float  # earned: all or nothing
    max_points: float
    duration: float = 0.0
    message: str = ""  # expected vs observed, in a line or two
    evidence: str = ""  # program output tail, capture excerpt, ...
    hidden: bool = False
    reproduce: str = ""  # the one command that runs this check again
    rules: list[str] = field(default_factory=list)  # the README rules it enforces, e.g. ["R2"]

    @property
    def passed(self) -> bool:
        return self.status == "passed"


@dataclass
class LabResult:
    """A lab run: which code, which checks, and whether the platform held."""

    lab: str  # "01-tcp-echo"
    title: str
    code: str  # the folder of the code under test
    status: RunStatus
    checks: list[CheckResult] = field(default_factory=list)
    profile: str = "clean"
    seed: int | None = None
    started_at: str = ""  # ISO 8601, UTC
    duration: float = 0.0
    message: str = ""  # the platform's error, when status is "error"
    artifacts: str = ""  # folder with logs and captures
    version: str = ""
    # Where the time went, in seconds: images (checked, or built), network_up (Compose and
    # the routes), checks (from the go to the checker's exit), teardown.
    phases: dict[str, float] = field(default_factory=dict)
    commit: str | None = None  # the graded submission's git HEAD, when grade-all knows it

    @property
    def score(self) -> float:
        return sum(c.points for c in self.checks)

    @property
    def max_score(self) -> float:
        return sum(c.max_points for c in self.checks)

    @property
    def exit_code(self) -> int:
        return {"passed": 0, "failed": 1, "error": 2}[self.status]

    def to_dict(self) -> dict:
        return {**asdict(self), "score": self.score, "max_score": self.max_score}

    @classmethod
    def from_dict(cls, data: dict) -> LabResult:
        data = {k: v for k, v in data.items() if k not in ("score", "max_score")}
        checks = [CheckResult(**c) for c in data.pop("checks", [])]
        return cls(**data, checks=checks)


# read once, while socklab has one thread: os.umask can only be read by setting it
UMASK = os.umask(0o022)
os.umask(UMASK)


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so readers see the old file or the whole new one.

    The file is as readable as the user's umask allows (a TA or a web server reads the
    gradebook), not the 0600 of a temporary file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.fchmod(fd, 0o666 & ~UMASK)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save(result: LabResult, path: Path) -> None:
    write_atomic(path, json.dumps(result.to_dict(), indent=2) + "\n")


def load(path: Path) -> LabResult:
    return LabResult.from_dict(json.loads(Path(path).read_text()))
