"""The checker plugin sorts every outcome right, in-process with pytester (no containers)."""

from __future__ import annotations

import json

import pytest

CHECKS = '''
import time
import pytest

@pytest.mark.points(2)
def test_good():
    """A check that passes"""

@pytest.mark.points(1)
def test_wrong():
    from socklab.checking import expect
    expect.fail("1", "2")

@pytest.mark.points(1)
def test_checker_bug():
    {}["missing"]

@pytest.mark.points(3)
@pytest.mark.timeout(0.3)
def test_slow():
    time.sleep(5)

@pytest.fixture
def broken_setup():
    raise AssertionError("expected the server to listen\\nobserved nothing")

@pytest.mark.points(1)
def test_setup_fails(broken_setup):
    pass
'''


def test_outcomes_points_messages_and_order(pytester):
    pytester.makepyfile(test_checks=CHECKS)
    out = pytester.path / "results.json"
    pytester.runpytest_inprocess("-p", "socklab.checking.plugin", "--socklab-result", str(out))
    results = {r["id"]: r for r in json.loads(out.read_text())}
    # a timeout does not stop the checks after it; a failed fixture is the check's failure
    assert {k: r["status"] for k, r in results.items()} == {
        "test_good": "passed",
        "test_wrong": "failed",
        "test_checker_bug": "error",
        "test_slow": "timeout",
        "test_setup_fails": "failed",
    }
    assert [(r["points"], r["max_points"]) for r in results.values()] == [
        (2, 2),
        (0, 1),
        (0, 1),
        (0, 3),
        (0, 1),
    ]
    assert results["test_wrong"]["message"] == "expected 1\nobserved 2"
    assert results["test_setup_fails"]["message"].startswith("expected the server to listen")
    assert results["test_slow"]["message"] == "timed out after 0.3 s"
    assert results["test_checker_bug"]["message"].startswith("the checker itself failed")
    assert "KeyError" in results["test_checker_bug"]["message"]
    assert results["test_good"]["title"] == "A check that passes"
    assert results["test_wrong"]["title"] == "wrong"
    assert [r["number"] for r in results.values()] == ["0.1", "0.2", "0.3", "0.4", "0.5"]


def test_the_lab_deadline_times_out_the_rest(pytester):
    pytester.makepyfile(
        test_slow="""
import time, pytest
@pytest.fixture
def slow_setup():
    time.sleep(0.4)

@pytest.mark.points(1)
def test_first(slow_setup):
    pass

@pytest.mark.points(1)
def test_second():
    time.sleep(2)

@pytest.mark.points(1)
def test_third():
    pass
"""
    )
    out = pytester.path / "r.json"
    pytester.runpytest_inprocess(
        "-p", "socklab.checking.plugin", "--socklab-result", str(out), "--socklab-deadline", "0.8"
    )
    results = {r["id"]: r for r in json.loads(out.read_text())}
    assert results["test_first"]["status"] == "passed"
    assert [results[k]["status"] for k in ("test_second", "test_third")] == ["timeout"] * 2
    assert results["test_third"]["message"] == "not run: the lab's time limit of 0.8 s for all checks ran out"


def test_a_check_without_points_is_refused(pytester):
    pytester.makepyfile(test_x="def test_unpriced():\n    pass\n")
    run = pytester.runpytest_inprocess("-p", "socklab.checking.plugin")
    assert run.ret == pytest.ExitCode.USAGE_ERROR
    assert "without @pytest.mark.points" in "\n".join(run.errlines + run.outlines)


def test_hidden_checks_are_marked(pytester):
    hidden = pytester.mkdir("hidden")
    (hidden / "test_secret.py").write_text(
        "import pytest\n@pytest.mark.points(1)\ndef test_secret():\n    pass\n"
    )
    out = pytester.path / "r.json"
    pytester.runpytest_inprocess("-p", "socklab.checking.plugin", "--socklab-result", str(out))
    assert json.loads(out.read_text())[0]["hidden"] is True


def test_what_a_check_observed_is_capped_whatever_the_checker_listed():
    from socklab.checking import expect

    flood = "; ".join(f"24 bytes 'PING {i}' from 198.19.21.10:5000" for i in range(5000))
    with pytest.raises(AssertionError) as caught:
        expect.fail("one datagram back", flood, "the evidence")
    message = str(caught.value)
    assert len(message) < expect.OBSERVED + 200
    assert message.startswith("expected one datagram back\nobserved 24 bytes 'PING 0'")
    assert "more characters)" in message and message.endswith("\nthe evidence")
