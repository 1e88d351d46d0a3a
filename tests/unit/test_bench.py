"""make bench's bookkeeping: which suites run, and how new figures replace old ones."""

from __future__ import annotations

import pytest

from socklab import bench


def fig(suite: str, name: str, value: float) -> dict:
    return {"suite": suite, "name": name, "value": value}


def test_suites_parse_with_and_without_labs():
    assert bench.parse(["platform", "reliability:6,9"]) == [("platform", None), ("reliability", ["6", "9"])]
    assert [s for s, _ in bench.parse([])] == list(bench.SUITES)


@pytest.mark.parametrize("spec", ["nope", "platform:1"])
def test_unknown_suites_and_subsets_of_whole_suites_are_refused(spec):
    with pytest.raises(SystemExit):
        bench.parse([spec])


def test_a_whole_suite_replaces_all_its_figures():
    old = [fig("a", "x", 1), fig("b", "y", 2), fig("b", "gone", 3)]
    assert bench.merge(old, [fig("b", "y", 5)], "b", whole=True) == [fig("a", "x", 1), fig("b", "y", 5)]


def test_some_labs_replace_only_their_own_figures():
    old = [fig("r", "06: passes", 19), fig("r", "07: passes", 20)]
    new = bench.merge(old, [fig("r", "06: passes", 20), fig("r", "01: passes", 20)], "r", whole=False)
    assert new == [
        fig("r", "01: passes", 20),
        fig("r", "06: passes", 20),
        fig("r", "07: passes", 20),
    ]  # in lab order
