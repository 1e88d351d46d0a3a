"""Lab 6's seeded inputs and judging (labs/06-file-transfer/checker/cases.py), without Docker."""

from __future__ import annotations

import importlib.util
import posixpath
import random
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from socklab import lab as labs

CASES = labs.find("6").path / "checker" / "cases.py"
spec = importlib.util.spec_from_file_location("lab06_cases", CASES)
assert spec and spec.loader
cases = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cases)

ROOT = "/scratch/files"


def plain(name: str) -> bool:
    """The README's rule R9: a plain name has no '/', no NUL, and is not '', '.' or '..'."""
    return name not in ("", ".", "..") and "/" not in name and "\0" not in name


@given(st.integers(0, 10**9))
def test_refused_gets_are_never_plain_and_start_with_the_prefix_sibling(seed):
    rng = random.Random(seed)
    beside = cases.sibling(rng, ROOT).rpartition("/")[2] + "/secret.txt"
    names = cases.refused_gets(rng, ROOT, beside, "sub/inner.bin")
    assert names[0] == f"../{beside}"
    assert not any(plain(n) for n in names)
    assert len(set(names)) == len(names)


@given(st.integers(0, 10**9))
def test_the_sibling_passes_a_check_by_string_prefix(seed):
    sibling = cases.sibling(random.Random(seed), ROOT)
    resolved = posixpath.normpath(posixpath.join(ROOT, "..", sibling.rpartition("/")[2], "x"))
    assert resolved.startswith(ROOT) and not resolved.startswith(ROOT + "/")


@given(st.integers(0, 10**9))
def test_refused_puts_name_where_a_wrong_server_would_write(seed):
    rng = random.Random(seed)
    beside_dir = cases.sibling(rng, ROOT)
    for name, path in cases.refused_puts(rng, ROOT, beside_dir):
        assert not plain(name)
        target = name if name.startswith("/") else posixpath.join(ROOT, name)
        assert posixpath.normpath(target) == path


@given(st.integers(0, 10**9))
def test_bad_sizes_are_never_digits(seed):
    args = cases.bad_sizes(random.Random(seed))
    assert " " not in args[0]
    for arg in args[1:]:
        size = arg.rpartition(" ")[2]
        assert not (size.isascii() and size.isdigit())


@given(st.integers(0, 10**9))
def test_unknown_commands_are_no_command_and_fit_a_line(seed):
    for line in cases.unknown_commands(random.Random(seed)):
        assert line.partition(" ")[0] not in ("LIST", "GET", "PUT", "QUIT")
        assert len(line.encode()) + 1 <= 1024


@given(st.text(min_size=1, max_size=40), st.integers(0, 10**9))
def test_line_cuts_fall_inside_the_line_and_inside_a_character_when_there_is_one(text, seed):
    line = f"GET {text}\n"
    data = line.encode()
    cut = cases.line_cuts(random.Random(seed), line)
    assert all(0 < c < len(data) for c in cut) and cut == sorted(set(cut))
    if len(data) != len(line):  # multi-byte characters: one cut splits one
        assert any(data[c] & 0xC0 == 0x80 for c in cut)


@given(st.integers(1, 70000), st.integers(0, 20), st.integers(0, 10**9))
def test_cuts_are_inside_and_distinct(size, count, seed):
    cut = cases.cuts(random.Random(seed), size, count)
    assert cut == sorted(set(cut)) and all(0 < c < size for c in cut)
    assert len(cut) == min(count, size - 1)


def test_sizes_are_at_buffer_boundaries_and_utf8_names_are_multibyte():
    rng = random.Random(1)
    assert set(cases.sizes(rng, 4)) <= set(cases.BOUNDARIES)
    name = cases.utf8_name(rng)
    assert len(name.encode()) > len(name) and plain(name)


def test_judging_replies():
    assert cases.status_problem(None, "221 bye") == "no reply (the connection ended)"
    assert (
        cases.status_problem({"status": "500 unknown command"}, "221 bye")
        == "the reply '500 unknown command'"
    )
    assert cases.status_problem({"status": "221 bye"}, "221 bye") is None
    good = {"status": "200 OK 3", "size": 3, "sha256": "ab"}
    assert cases.file_problem(good, 3, "ab") is None
    assert cases.file_problem({**good, "size": 2}, 3, "ab").startswith("2 bytes")
    assert cases.file_problem({**good, "status": "200 OK 2"}, 3, "ab") == "the reply '200 OK 2'"


def test_the_cases_module_is_the_checker_s():
    assert Path(cases.__file__) == CASES
