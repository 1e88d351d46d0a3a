"""What a checker needs to know about its run, passed from the runner in a JSON file."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from socklab.grading.result import write_atomic


@dataclass(frozen=True)
class RunContext:
    project: str  # the Compose project: containers are PROJECT-client, -server, -router
    lab: str  # the lab folder
    code: str  # the code under test (mounted read-only at /lab/code)
    artifacts: str  # where logs, captures and the result go (host side)
    addresses: dict[str, str]
    profile: str = "clean"
    seed: int | None = None
    reproduce: str = ""  # the command that runs this lab on this code again

    def container(self, service: str) -> str:
        return f"{self.project}-{service}"

    def save(self, path: Path) -> None:
        write_atomic(path, json.dumps(asdict(self), indent=2))

    @classmethod
    def load(cls, path: Path) -> RunContext:
        return cls(**json.loads(Path(path).read_text()))
