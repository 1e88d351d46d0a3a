"""The mutation suite runs for real: cosmic-ray mutates a copy of lab 1's solution and the
lab's checker, in real containers, judges a fixed-seed sample of the mutants."""

from __future__ import annotations

import pytest

from socklab import lab as labs
from socklab import mutation

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.usefixtures("built_images")]


def test_a_sample_of_lab_1s_mutants_is_judged():
    lab = labs.find("1")
    before = {p.name: p.read_bytes() for p in lab.solution.iterdir()}
    score = mutation.score_lab(lab, size=2, seed=1)
    assert score.total > 20  # cosmic-ray makes dozens of mutants of the echo programs
    assert len(score.run) == 2
    assert {m.outcome for m in score.run} <= {"killed", "survived"}, score.run
    assert all(m.diff for m in score.run)
    assert {p.name: p.read_bytes() for p in lab.solution.iterdir()} == before  # a copy was mutated
