"""Host scheduling: a failed host's submission is re-run elsewhere, never twice, never lost."""

from __future__ import annotations

import random

import pytest

from socklab.classroom.schedule import Scheduler


def test_hosts_take_in_order_until_the_queue_is_empty():
    s = Scheduler.of(["a", "b"], ["x", "y", "z"])
    assert (s.take("a"), s.take("b"), s.take("a")) == ("x", "y", "z")
    assert s.take("b") is None and not s.finished()
    for host, sub in (("a", "x"), ("b", "y"), ("a", "z")):
        s.complete(host, sub)
    assert s.finished() and s.done == {"x": "a", "y": "b", "z": "a"}


def test_a_failed_host_is_dropped_and_its_submission_goes_first_to_another():
    s = Scheduler.of(["a", "b"], ["x", "y", "z"])
    s.take("a"), s.take("b")
    assert s.fail("a", "x", "connection reset")
    assert not s.alive("a") and s.dead == {"a": "connection reset"}
    assert s.take("a") is None  # a dead host takes nothing
    assert s.take("b") == "x"  # the failed one is first in line, before z
    assert s.take("b") == "z"


def test_a_slot_with_nothing_to_take_waits_while_another_host_may_give_work_back():
    s = Scheduler.of(["a", "b"], ["x"])
    s.take("a")
    assert s.should_wait("b")
    s.fail("a", "x", "gone")
    assert s.take("b") == "x"
    s.complete("b", "x")
    assert not s.should_wait("b") and s.finished()


def test_a_submission_that_fails_two_hosts_is_given_up_not_passed_around():
    s = Scheduler.of(["a", "b", "c"], ["x"], max_host_failures=2)
    s.take("a")
    assert s.fail("a", "x", "one")
    s.take("b")
    assert not s.fail("b", "x", "two")
    assert "x" in s.given_up and "two" in s.given_up["x"]
    assert s.take("c") is None and s.finished()


def test_when_every_host_fails_the_rest_is_left_not_lost():
    s = Scheduler.of(["a"], ["x", "y"], max_host_failures=3)
    s.take("a")
    s.fail("a", "x", "gone")
    assert s.finished() and s.left() == ["x", "y"] and not s.done


def test_a_host_that_cannot_start_takes_nothing():
    s = Scheduler.of(["a", "b"], ["x"])
    s.host_down("a", "no socklab")
    assert s.take("a") is None and s.take("b") == "x"


def test_completing_what_another_host_runs_is_refused():
    s = Scheduler.of(["a", "b"], ["x"])
    s.take("a")
    with pytest.raises(ValueError, match="not running on b"):
        s.complete("b", "x")


def test_duplicate_submissions_are_refused():
    with pytest.raises(ValueError):
        Scheduler.of(["a"], ["x", "x"])


@pytest.mark.parametrize("seed", range(30))
def test_random_failures_grade_every_submission_exactly_once_or_give_it_up(seed):
    rng = random.Random(seed)
    subs = [f"s{i}" for i in range(20)]
    s = Scheduler.of(["a", "b", "c"], subs, max_host_failures=2)
    graded: list[str] = []
    running: list[tuple[str, str]] = []
    while not s.finished():
        for host in s.hosts:
            if (sub := s.take(host)) is not None:
                running.append((host, sub))
        if not running:
            break
        host, sub = running.pop(rng.randrange(len(running)))
        if rng.random() < 0.1:
            s.fail(host, sub, "boom")
        else:
            s.complete(host, sub)
            graded.append(sub)
    assert len(graded) == len(set(graded))  # never twice
    accounted = set(graded) | set(s.given_up) | set(s.left())
    assert accounted == set(subs)  # never lost
    assert not set(graded) & set(s.given_up)
