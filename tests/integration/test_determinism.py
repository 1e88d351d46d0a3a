"""The same submission and seed, graded 4 times, gets the same verdict 4 times — for
every lab whose link is impaired (where a random choice could sneak in). `make bench`'s
reliability suite grades every solution and bad case 20 times; this is the quick guard."""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor

import pytest

from socklab import lab as labs
from socklab import runner
from socklab.errors import LabError

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.usefixtures("built_images")]
TIMES = 4
SEED = 7


def impaired_labs() -> list[labs.Lab]:
    found = []
    for folder in labs.folders():
        try:
            lab = labs.load(folder)
        except LabError:
            continue  # tests/unit/test_lab.py says what is wrong with it
        if lab.profile != "clean" and lab.bad_submissions():
            found.append(lab)
    return found


LABS = impaired_labs()


@pytest.mark.parametrize("lab", LABS, ids=[lab.name for lab in LABS])
def test_graded_again_the_same(lab):
    """A known-wrong submission is the sensitive case: its partial credit must not vary."""
    bad = lab.bad_submissions()[0]
    code = labs.lay_over(lab.solution, bad.path)
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(lambda _: runner.run(lab, code, seed=SEED, hidden=True), range(TIMES)))
    finally:
        shutil.rmtree(code)
    verdicts = {tuple((c.id, c.status) for c in r.checks) for r in results}
    assert all(r.status != "error" for r in results), [r.message for r in results]
    assert len(verdicts) == 1, f"{len(verdicts)} different verdicts for {bad.name}: {verdicts}"
    assert len({r.score for r in results}) == 1
