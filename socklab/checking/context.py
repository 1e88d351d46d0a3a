"""What a checker needs to know about its run, passed from the runner in a JSON file."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from socklab.grading.result import write_atomic

# beside the checks' results: each check's id and the programs it asked for (watch mode's
# next round keeps the verdicts of those that use no edited program)
USED_FILE = "programs.json"


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
    skip: list[str] = field(default_factory=list)  # checks not to run (watch mode keeps them)

    def container(self, service: str) -> str:
        return f"{self.project}-{service}"

    def save(self, path: Path) -> None:
        write_atomic(path, json.dumps(asdict(self), indent=2))

    @classmethod
    def load(cls, path: Path) -> RunContext:
        return cls(**json.loads(Path(path).read_text()))
