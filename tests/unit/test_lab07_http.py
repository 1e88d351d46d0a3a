"""Lab 7's seeded inputs and the judging of an answer's framing
(labs/07-http-server/checker/cases.py), without Docker."""

from __future__ import annotations

import importlib.util
import random
import urllib.parse

from hypothesis import given
from hypothesis import strategies as st

from socklab import lab as labs

CASES = labs.find("7").path / "checker" / "cases.py"
spec = importlib.util.spec_from_file_location("lab07_cases", CASES)
assert spec and spec.loader
cases = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cases)


def segments(target: str) -> list[str]:
    """The README's decoding: drop the query, decode %XX, then split; '' and '.' ignored."""
    path = urllib.parse.unquote_to_bytes(target.split("?", 1)[0]).decode("utf-8")
    return [p for p in path.split("/") if p not in ("", ".")]


NAMES = st.lists(
    st.text(
        alphabet=st.characters(blacklist_characters="/\0?", blacklist_categories=("Cs",)),
        min_size=1,
        max_size=12,
    ).filter(lambda s: s not in (".", "..")),
    min_size=1,
    max_size=4,
)


@given(NAMES, st.integers(0, 10**9))
def test_percent_spelling_names_the_same_file(parts, seed):
    rng = random.Random(seed)
    target = "/" + cases.percent(rng, urllib.parse.quote("/".join(parts), safe="/+"))
    assert target.startswith("/") and " " not in target
    assert segments(target + cases.query(rng)) == parts


@given(st.integers(0, 10**9))
def test_traversals_all_have_a_dotdot_segment_once_decoded(seed):
    rng = random.Random(seed)
    targets = cases.traversals(rng, "www-old")
    assert targets[0] == "/../www-old/secret.txt"
    for target in targets:
        assert target.startswith("/")
        parts = urllib.parse.unquote(target).split("/")
        assert ".." in parts or target.startswith("//"), target


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=20), st.integers(0, 10**9))
def test_header_names_keep_their_letters(name, seed):
    assert cases.name_case(random.Random(seed), name).lower() == name.lower()


@given(st.integers(2, 500), st.integers(0, 10), st.integers(0, 10**9))
def test_split_points(size, count, seed):
    cut = cases.split_points(random.Random(seed), size, count)
    assert cut == sorted(set(cut)) and all(0 < c < size for c in cut)


GOOD = {
    "status": 200,
    "version": "HTTP/1.1",
    "reason": "OK",
    "status_line": "HTTP/1.1 200 OK",
    "headers": {"content-type": ["text/plain"], "content-length": ["3"], "connection": ["close"]},
    "body_size": 3,
    "closed": True,
}


def with_headers(**headers):
    return {**GOOD, "headers": {**GOOD["headers"], **headers}}


def test_a_well_framed_answer_has_no_problem():
    assert cases.framing_problems(GOOD) == []
    assert cases.framing_problems(with_headers(connection=["Close"])) == []
    assert cases.framing_problems({**GOOD, "body_size": 0}, head_only=True) == []
    assert cases.framing_problems({**GOOD, "reason": "ok"}) == []


def test_framing_problems_name_what_is_wrong():
    problems = cases.framing_problems
    assert problems({"status": None, "problem": "no bytes at all"}) == ["no answer (no bytes at all)"]
    assert "not HTTP/1.1" in problems({**GOOD, "version": "HTTP/1.0"})[0]
    assert "reason phrase" in problems({**GOOD, "reason": "Fine"})[0]
    assert problems(with_headers(**{"content-type": []})) == ["0 Content-Type headers"]
    assert problems(with_headers(**{"content-length": ["3", "3"]})) == [
        "the Content-Length headers ['3', '3']"
    ]
    assert problems({**GOOD, "body_size": 5}) == ["'Content-Length: 3' but 5 bytes of body"]
    assert "not 'close'" in problems(with_headers(connection=["keep-alive"]))[0]
    assert (
        "not 'close'"
        in problems({**GOOD, "headers": {k: v for k, v in GOOD["headers"].items() if k != "connection"}})[0]
    )
    held = {**GOOD, "closed": False, "error": "still open 2.5 s later"}
    assert problems(held) == ["still open 2.5 s later"]
