"""Watch mode's pure part: what counts as an edit, and when a round starts."""

from __future__ import annotations

import os

from socklab import lab as labs
from socklab import watch
from socklab.grading.result import CheckResult, LabResult


def test_a_snapshot_sees_added_rewritten_and_removed_files_but_not_caches(tmp_path):
    (tmp_path / "server.py").write_text("a")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "util.py").write_text("b")
    (tmp_path / "__pycache__").mkdir()
    before = watch.snapshot(tmp_path)
    assert set(before) == {str(tmp_path / "server.py"), str(tmp_path / "pkg" / "util.py")}
    (tmp_path / "__pycache__" / "server.cpython-311.pyc").write_bytes(b"x")
    assert watch.changed(before, watch.snapshot(tmp_path)) == []
    (tmp_path / "server.py").write_text("abc")  # a save: size and time change
    (tmp_path / "client.py").write_text("new")
    (tmp_path / "pkg" / "util.py").unlink()
    assert watch.changed(before, watch.snapshot(tmp_path)) == sorted(
        str(tmp_path / name) for name in ("server.py", "client.py", "pkg/util.py")
    )


def test_a_save_of_the_same_size_counts_by_its_time(tmp_path):
    path = tmp_path / "server.py"
    path.write_text("a")
    os.utime(path, ns=(1, 1_000_000_000))
    before = watch.snapshot(tmp_path)
    path.write_text("b")
    os.utime(path, ns=(1, 2_000_000_000))
    assert watch.changed(before, watch.snapshot(tmp_path)) == [str(path)]


def test_a_round_waits_until_the_editor_has_finished_writing(tmp_path):
    """An editor that writes in steps (a temporary file, then a rename) starts one round."""
    path = tmp_path / "server.py"
    path.write_text("v1")
    before = watch.snapshot(tmp_path)
    steps = iter(
        [
            lambda: (tmp_path / ".server.py.swp").write_text("x"),
            lambda: path.write_text("v2 longer"),
            lambda: (tmp_path / ".server.py.swp").unlink(),
        ]
    )
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        step = next(steps, None)
        if step:
            step()

    after, edited = watch.wait_for_change(tmp_path, before, sleep=sleep)
    assert edited == [str(path)]  # the swap file came and went: not an edit
    assert after == watch.snapshot(tmp_path)
    assert slept[-1] == watch.SETTLE  # it returned only after a quiet SETTLE


def _judged(statuses: dict[str, str]) -> LabResult:
    checks = [CheckResult(name, name, f"1.{n}", s, 0, 1) for n, (name, s) in enumerate(statuses.items())]
    return LabResult("01-tcp-echo", "TCP echo", "code", "failed", checks)


def test_a_check_keeps_its_verdict_only_when_no_program_it_used_was_edited(tmp_path):
    lab = labs.find("1")  # server.py and client.py: one program each
    session = watch.Session(lab, tmp_path)  # no topology until it is entered
    session.last = _judged(
        {"t_listen": "passed", "t_echo": "failed", "t_client": "passed", "t_both": "passed",
         "t_none": "passed", "t_slow": "timeout", "t_new": "passed"}
    )  # fmt: skip
    session.used = {"t_listen": ["server"], "t_echo": ["server"], "t_client": ["client"],
                    "t_both": ["client", "server"], "t_none": [], "t_slow": ["client"]}  # fmt: skip
    edit = lambda *names: [str(tmp_path / n) for n in names]  # noqa: E731
    assert session.standing(edit("client.py")) == ["t_listen", "t_echo"]
    assert session.standing(edit("server.py")) == ["t_client"]  # a timeout runs again
    assert session.standing(edit("server.py", "client.py")) == []
    # a module either may import, a data file, a new file: every check runs again
    assert session.standing(edit("client.py", "common.py")) == []
    assert session.standing([]) == []  # the first round, or nothing known to have changed
    session.last.status = "error"  # a round the platform failed: nothing of it is kept
    assert session.standing(edit("client.py")) == []
