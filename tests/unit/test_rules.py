"""A rule, a check, a wrong program: every lab's README rules are each enforced.

Read from the sources (no Docker): each lab README's numbered rules, the rules each check
cites with ``@pytest.mark.rules(...)``, and each ``bad/`` case's ``defect.toml``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from socklab import lab as labs
from socklab.errors import LabError

FOLDERS = labs.folders()


def cited(lab: labs.Lab) -> dict[str, tuple[str, ...]]:
    """Each check of the lab (checker/ and hidden/) and the rules it cites."""
    return {check.name: check.rules for check in lab.checks()}


def test_rules_are_read_from_markdown():
    text = (
        "## Rules\n\n**R1.** The server listens\non port 5000.\n- **R2.** It echoes.\n"
        "\nNot a rule.\n**R3.** Last.\n| table |\n"
    )
    assert labs.rules_in(text) == {
        "R1": "The server listens on port 5000.",
        "R2": "It echoes.",
        "R3": "Last.",
    }


def test_a_rule_stated_twice_is_a_mistake():
    with pytest.raises(LabError, match="R1 is stated twice"):
        labs.rules_in("**R1.** a\n\n**R1.** b\n")


@pytest.mark.parametrize("folder", FOLDERS, ids=[f.name for f in FOLDERS])
def test_every_check_cites_real_rules(folder):
    lab = labs.load(folder)
    rules = lab.rules
    assert rules, f"{lab.readme}: no numbered rules (**R1.** ...)"
    for check, ids in cited(lab).items():
        assert ids, f"{lab.name}: {check} cites no rule (@pytest.mark.rules(...))"
        unknown = set(ids) - set(rules)
        assert not unknown, f"{lab.name}: {check} cites {sorted(unknown)}, not in the README"


@pytest.mark.parametrize("folder", FOLDERS, ids=[f.name for f in FOLDERS])
def test_every_rule_has_a_check(folder):
    lab = labs.load(folder)
    enforced = {rule for ids in cited(lab).values() for rule in ids}
    missing = [rule for rule in lab.rules if rule not in enforced]
    assert not missing, f"{lab.name}: no check enforces {missing}"


@pytest.mark.parametrize("folder", FOLDERS, ids=[f.name for f in FOLDERS])
def test_every_rule_has_a_wrong_program_caught_by_its_check(folder):
    lab = labs.load(folder)
    checks = cited(lab)
    for bad in lab.bad_submissions():
        assert bad.rule in lab.rules, f"{bad.path}/defect.toml: rule {bad.rule!r} is not in the README"
        assert bad.caught_by in checks, f"{bad.path}/defect.toml: no check {bad.caught_by!r}"
        assert bad.rule in checks[bad.caught_by], (
            f"{bad.path}/defect.toml: {bad.caught_by} does not cite {bad.rule}"
        )
    broken = {bad.rule for bad in lab.bad_submissions()}
    missing = [rule for rule in lab.rules if rule not in broken]
    assert not missing, f"{lab.name}: no bad/ case breaks {missing}"


@pytest.mark.parametrize("folder", FOLDERS, ids=[f.name for f in FOLDERS])
def test_several_correct_designs(folder):
    lab = labs.load(folder)
    designs = lab.solutions()
    assert len(designs) >= 3, f"{lab.name}: solution/ and at least two solutions/NAME/"
    for code in designs:
        assert not lab.missing_files(code), f"{code}: missing {lab.missing_files(code)}"


def test_solutions_are_found(tmp_path: Path):
    (tmp_path / "solution").mkdir()
    (tmp_path / "solutions" / "b").mkdir(parents=True)
    (tmp_path / "solutions" / "a").mkdir()
    lab = labs.Lab(1, "x", "X", tmp_path, points=1)
    assert lab.solutions() == [tmp_path / "solution", *(tmp_path / "solutions" / n for n in "ab")]
