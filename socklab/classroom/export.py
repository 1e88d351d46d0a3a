"""``socklab export-student DIR``: the repository students receive.

What goes in is listed, never what stays out: a lab ships its README, ``lab.toml``,
``starter/`` (the code the student edits; ``make lab-N`` runs it, as a lab without a
solution falls back to its starter) and ``checker/`` (the public checks); the kit ships
its Makefile, Compose file, images, package and pyproject unchanged, so that its images
hash the same and are not rebuilt. Solutions, hidden checks, known-wrong submissions and
any other file of a lab folder stay behind. Then the CI files and the students' README.
"""

from __future__ import annotations

import shutil
from pathlib import Path, PurePosixPath

from socklab import lab as labs
from socklab.classroom import ci
from socklab.errors import SocklabError
from socklab.grading.result import write_atomic

ROOT = labs.LABS_ROOT.parent
KIT = ("Makefile", "docker-compose.yml", "pyproject.toml", ".gitignore", "images", "socklab",
       "docs/students.md")
LAB_PARTS = ("README.md", "README.zh-CN.md", "lab.toml", "starter", "checker")
SECRET = ("solution", "solutions", "hidden", "bad")  # never shipped, at any depth
JUNK = ("__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache")


def shipped(rel: PurePosixPath) -> bool:
    """Whether a file at ``rel`` (relative to the repository) goes to students."""
    parts = rel.parts
    if any(p in JUNK for p in parts) or rel.suffix == ".pyc":
        return False
    if parts[0] == "labs":
        return len(parts) >= 3 and parts[2] in LAB_PARTS and not any(p in SECRET for p in parts)
    return any(rel == PurePosixPath(k) or rel.is_relative_to(k) for k in KIT)


def _files(folder: Path) -> list[Path]:
    if folder.is_file():
        return [folder]
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def manifest(root: Path, chosen: list[labs.Lab]) -> list[PurePosixPath]:
    """The repository's files that go to students, for the chosen labs."""
    found = []
    for top in [*(root / k for k in KIT), *(lab.path for lab in chosen)]:
        if not top.exists():
            continue
        for path in _files(top):
            rel = PurePosixPath(path.relative_to(root).as_posix())
            if shipped(rel):
                found.append(rel)
    return sorted(set(found))


def choose(numbers: str | None, root: Path = labs.LABS_ROOT) -> list[labs.Lab]:
    """The labs to publish: those named (``1,4``), else every lab that loads and is ready
    (it has a README and a starter)."""
    if numbers:
        return [labs.find(n.strip(), root) for n in numbers.split(",") if n.strip()]
    ready = []
    for folder in labs.folders(root):
        try:
            lab = labs.load(folder)
        except SocklabError:
            continue
        if (lab.path / "README.md").is_file() and lab.starter.is_dir():
            ready.append(lab)
    return ready


def readme(chosen: list[labs.Lab]) -> str:
    rows = "\n".join(f"| {lab.number} | {lab.title} | `labs/{lab.name}/README.md` | "
                     f"`labs/{lab.name}/starter/` | `make lab-{lab.number}` |" for lab in chosen)
    return f"""# Socket programming labs

Each lab runs your socket programs on a real little network — a **client**, a **server**
and a **router** container — and a checker tells you, check by check, what works.

With Docker (Docker Desktop on macOS or Windows/WSL2, or an engine on Linux), Docker
Compose, Python 3.10+ and make:

```
make lab-1        # builds what is missing, starts the network, runs your lab 1 code, prints the verdict
```

The first run creates `.venv` and builds the images from a Debian image it pulls (about
a minute; no root needed). Something wrong? `make doctor` says what, and how to fix it.

| # | lab | read | your code | check it |
|---|---|---|---|---|
{rows}

Edit the files in the lab's `starter/` folder; `make lab-N` checks them, and every push
is graded the same way (hidden checks may add to it). How to read the report:
[docs/students.md](docs/students.md).
"""


def export(dest: Path, chosen: list[labs.Lab], root: Path = ROOT) -> list[PurePosixPath]:
    """Write the student repository to ``dest`` (new or empty); return what was written."""
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise SocklabError(f"{dest} is not empty: export into a new or empty folder")
    if not chosen:
        raise SocklabError("no lab to export (a lab needs a README.md and a starter/)")
    written = manifest(root, chosen)
    for rel in written:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / rel, target)  # same bytes and modes: same image hashes
    extra = {PurePosixPath(ci.GITHUB): ci.github(chosen), PurePosixPath(ci.GITLAB): ci.gitlab(chosen),
             PurePosixPath("README.md"): readme(chosen)}
    for rel, text in extra.items():
        write_atomic(dest / rel, text)
    return sorted([*written, *extra])
