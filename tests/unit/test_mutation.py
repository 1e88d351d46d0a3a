"""The mutation score's pure parts: the sample, the equivalent mutants, the arithmetic."""

from __future__ import annotations

import pytest

from socklab import lab as labs
from socklab import mutation
from socklab.errors import LabError
from socklab.mutation import Equivalent, Mutant, Score


def test_the_sample_is_fixed_by_its_seed_and_the_keys_order_does_not_matter():
    keys = [("server.py", line, "core/NumberReplacer", 0) for line in range(50)]
    first = mutation.sample(keys, 10, seed=3)
    assert len(first) == 10
    assert mutation.sample(list(reversed(keys)), 10, seed=3) == first
    assert mutation.sample(keys, 10, seed=4) != first
    assert mutation.sample(keys, None, seed=3) == set(keys) == mutation.sample(keys, 99, seed=3)


def test_score_counts_killed_over_killed_and_survived_leaving_out_equivalent_and_errors():
    run = [
        Mutant("s.py", 1, "op", "killed"),
        Mutant("s.py", 2, "op", "killed"),
        Mutant("s.py", 3, "op", "survived"),
        Mutant("s.py", 4, "op", "survived"),
        Mutant("s.py", 5, "op", "error"),
    ]
    score = mutation.judge(Score("01-x", 60, 1, run), [Equivalent("s.py", 4, "op", "same bytes")])
    assert [m.line for m in score.survived] == [3]
    assert [m.line for m, _ in score.equivalent] == [4]
    assert [m.line for m in score.errors] == [5]
    assert score.percent == pytest.approx(200 / 3)


def test_becomes_names_the_one_equivalent_change_of_a_line():
    def number(new: str) -> Mutant:
        diff = f"--- a/s.py\n+++ b/s.py\n@@ -9 +9 @@\n-    port = 5000 if n > 1 else 0\n+    {new}\n"
        return Mutant("s.py", 9, "core/NumberReplacer", "survived", diff)

    default, bound = number("port = 5001 if n > 1 else 0"), number("port = 5000 if n > 2 else 0")
    known = [Equivalent("s.py", 9, "core/NumberReplacer", "the default is never used", "= 5001")]
    score = mutation.judge(Score("01-x", 2, 1, [default, bound]), known)
    assert [m for m, _ in score.equivalent] == [default]
    assert score.survived == [bound]


def test_equivalents_are_read_with_their_reasons(tmp_path):
    (tmp_path / "mutation.toml").write_text(
        '[[equivalent]]\nfile = "server.py"\nline = 3\noperator = "core/X"\nreason = "why"\n'
    )
    lab = labs.Lab(1, "x", "X", tmp_path, points=1)
    assert mutation.equivalents(lab) == [Equivalent("server.py", 3, "core/X", "why")]
    (tmp_path / "mutation.toml").write_text(
        '[[equivalent]]\nfile = "server.py"\nline = 3\noperator = "core/X"\nreason = "why"\nbecomes = "> 0"\n'
    )
    assert mutation.equivalents(lab) == [Equivalent("server.py", 3, "core/X", "why", "> 0")]


@pytest.mark.parametrize(
    "entry,message",
    [
        ('file = "a.py"\nline = 3\noperator = "core/X"\n', "lacks reason"),
        ('file = "a.py"\nline = 3\noperator = "core/X"\nreason = " "\n', "gives no reason"),
        ('file = "a.py"\n[', "mutation.toml"),
    ],
)
def test_an_equivalent_without_a_reason_is_refused(tmp_path, entry, message):
    (tmp_path / "mutation.toml").write_text(f"[[equivalent]]\n{entry}")
    with pytest.raises(LabError, match=message):
        mutation.equivalents(labs.Lab(1, "x", "X", tmp_path, points=1))


@pytest.mark.parametrize("folder", labs.folders(), ids=lambda f: f.name)
def test_every_equivalent_names_a_line_of_the_solution(folder):
    lab = labs.load(folder)
    for known in mutation.equivalents(lab):
        lines = (lab.solution / known.file).read_text().splitlines()
        assert 1 <= known.line <= len(lines), f"{lab.name}/mutation.toml: {known.file}:{known.line}"
        assert known.operator.startswith("core/"), f"{lab.name}/mutation.toml: {known.operator}"
