"""Each lab's Simplified Chinese README keeps in step with its English one (no Docker).

The two must state the same numbered rules (same ids; in each rule the same code and the
same numbers, so a size or a time limit cannot drift), mention the same checks
(``test_...``), and score the same rows in "How it is checked" (rules and points).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from socklab import lab as labs

FOLDERS = labs.folders()
ZH = "README.zh-CN.md"
# Labs whose translation is still to come (strict xfail: a translated lab must leave the set).
PENDING: set[str] = set()

CHECK = re.compile(r"\btest_\w+")
CODE = re.compile(r"`([^`]+)`")
NUMBER = re.compile(r"\d+")
ROW = re.compile(r"^\|(.*)\|\s*$")


def readmes(folder: Path) -> tuple[str, str]:
    return (folder / "README.md").read_text(), (folder / ZH).read_text()


def facts(rule: str) -> tuple[set[str], set[str]]:
    """What a rule's translation must keep as it is: its code spans and its numbers."""
    return set(CODE.findall(rule)), set(NUMBER.findall(rule))


def scored_rows(markdown: str) -> list[tuple[frozenset[str], str]]:
    """The rows of the checks table: (the rules a row names, its points), in order."""
    rows = []
    for line in markdown.splitlines():
        if match := ROW.match(line):
            cells = [cell.strip() for cell in match.group(1).split("|")]
            rules = re.findall(r"R\d+", cells[-2]) if len(cells) >= 3 else []
            if rules and re.fullmatch(r"[\dR ,]+", cells[-2]) and cells[-1].isdigit():
                rows.append((frozenset(rules), cells[-1]))
    return rows


def translated(folder: Path) -> Path:
    if not (folder / ZH).is_file():
        pytest.skip(f"{folder.name} has no {ZH} (test_lab_has_a_chinese_readme says so)")
    return folder


def pending(folders: list[Path]) -> list:
    return [
        pytest.param(f, id=f.name, marks=pytest.mark.xfail(strict=True, reason="translation pending"))
        if f.name in PENDING
        else pytest.param(f, id=f.name)
        for f in folders
    ]


def test_rows_are_read_from_either_language():
    english = "| check | rules | points |\n|---|---|---|\n| a `x \\| y` | R1 R4 | 2 |\n| b | R2, R3 | 1 |\n"
    chinese = "| 检查 | 规则 | 分数 |\n|---|---|---|\n| 甲 | R1 R4 | 2 |\n| 乙 | R2, R3 | 1 |\n"
    assert (
        scored_rows(english)
        == scored_rows(chinese)
        == [(frozenset({"R1", "R4"}), "2"), (frozenset({"R2", "R3"}), "1")]
    )


@pytest.mark.parametrize("folder", pending(FOLDERS))
def test_lab_has_a_chinese_readme(folder):
    assert (folder / ZH).is_file(), f"{folder.name}: no {ZH} beside README.md"
    english, chinese = readmes(folder)
    assert f"]({ZH})" in english.split("\n## ")[0], f"{folder.name}/README.md: no link to {ZH} at the top"
    assert "](README.md)" in chinese.split("\n## ")[0], f"{folder.name}/{ZH}: no link to README.md at the top"


@pytest.mark.parametrize("folder", FOLDERS, ids=[f.name for f in FOLDERS])
def test_same_rules(folder):
    english, chinese = readmes(translated(folder))
    en, zh = labs.rules_in(english), labs.rules_in(chinese)
    assert list(zh) == list(en), f"{folder.name}: rule ids {list(en)} in English, {list(zh)} in Chinese"
    for rule in en:
        assert facts(zh[rule]) == facts(en[rule]), (
            f"{folder.name} {rule}: code and numbers differ\n  en: {en[rule]}\n  zh: {zh[rule]}"
        )


@pytest.mark.parametrize("folder", FOLDERS, ids=[f.name for f in FOLDERS])
def test_same_checks_named(folder):
    english, chinese = readmes(translated(folder))
    assert set(CHECK.findall(chinese)) == set(CHECK.findall(english)), folder.name


@pytest.mark.parametrize("folder", FOLDERS, ids=[f.name for f in FOLDERS])
def test_same_scored_rows(folder):
    english, chinese = readmes(translated(folder))
    assert scored_rows(english), f"{folder.name}/README.md: no checks table (rules, points)"
    assert scored_rows(chinese) == scored_rows(english), folder.name
