"""Every lab's checker has teeth and is fair: every correct design passes (solution/ and
each of solutions/NAME/), the starter and every bad/ fail.

A bad submission must fail the very check its defect.toml names (not error, not pass),
and no run may end in a platform error. It runs only the checks that cite the rule it
breaks: those are the ones meant to catch it, and the rest would only cost time.
"""

from __future__ import annotations

import shutil

import pytest

from socklab import lab as labs
from socklab import runner
from socklab.errors import LabError

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("built_images")]


def loadable(folder):
    try:
        return labs.load(folder)
    except LabError:
        return None  # tests/unit/test_lab.py reports what is wrong with it


LABS = [lab for lab in map(loadable, labs.folders()) if lab is not None]
BADS = [(lab, bad) for lab in LABS for bad in lab.bad_submissions()]
DESIGNS = [(lab, code) for lab in LABS for code in lab.solutions()]


def describe(result) -> str:
    lines = [f"{result.lab}: {result.status} {result.message}"]
    lines += [
        f"  {c.status:8} {c.id}: {c.message.splitlines()[0] if c.message else ''}" for c in result.checks
    ]
    return "\n".join(lines)


@pytest.mark.parametrize(
    "lab,code", DESIGNS, ids=[f"{lab.name}/{code.relative_to(lab.path)}" for lab, code in DESIGNS]
)
def test_solution_passes(lab, code):
    result = runner.run(lab, code)
    assert result.status == "passed", describe(result)
    assert result.score == lab.points, describe(result)


@pytest.mark.parametrize("lab", LABS, ids=[lab.name for lab in LABS])
def test_starter_fails(lab):
    result = runner.run(lab, lab.starter)
    assert result.status == "failed", describe(result)
    assert not any(c.status == "error" for c in result.checks), describe(result)


@pytest.mark.parametrize("lab,bad", BADS, ids=[f"{lab.name}/{bad.name}" for lab, bad in BADS])
def test_bad_submission_fails_its_check(lab, bad):
    code = labs.lay_over(lab.solution, bad.path)
    meant = lab.checks_citing(bad.rule) if bad.rule else []
    hidden = any(c.hidden for c in lab.checks() if c.name in meant)
    try:
        result = runner.run(lab, code, select=" or ".join(meant) or None, hidden=hidden)
    finally:
        shutil.rmtree(code)
    assert result.status == "failed", describe(result)
    by_id = {c.id: c for c in result.checks}
    assert bad.caught_by in by_id, f"{bad.caught_by} did not run\n{describe(result)}"
    assert by_id[bad.caught_by].status in ("failed", "timeout"), describe(result)
    assert not any(c.status == "error" for c in result.checks), describe(result)


REUSE = "setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)"
WITHOUT_REUSE = [
    (lab, path) for lab in LABS for path in sorted(lab.solution.glob("*.py")) if REUSE in path.read_text()
]


@pytest.mark.parametrize(
    "lab,path", WITHOUT_REUSE, ids=[f"{lab.name}/{path.name}" for lab, path in WITHOUT_REUSE]
)
def test_a_server_without_so_reuseaddr_passes(lab, path, tmp_path):
    """The README asks for no SO_REUSEADDR: the checker's own restarts of a server that
    closes first (its connections then wait in TIME-WAIT) must not fail one that lacks it."""
    code = tmp_path / "code"
    shutil.copytree(lab.solution, code)
    (code / path.name).write_text(path.read_text().replace(REUSE, "getsockname()"))
    result = runner.run(lab, code)
    assert result.status == "passed", describe(result)
