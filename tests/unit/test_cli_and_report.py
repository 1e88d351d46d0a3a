"""The CLI's edge (main(argv) -> int, errors as messages) and the text report."""

from __future__ import annotations

import json

import pytest
from rich.console import Console

from socklab import cli, report
from socklab import lab as labs
from socklab.grading.result import CheckResult, LabResult


def test_labs_lists_lab_one(capsys):
    assert cli.main(["labs"]) == 0
    assert "01-tcp-echo" in capsys.readouterr().out


def test_labs_json_gives_every_lab_with_its_points_programs_and_images(capsys):
    assert cli.main(["labs", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert listing["errors"] == []
    by_name = {lab["name"]: lab for lab in listing["labs"]}
    assert len(by_name) == len(labs.folders())
    one = by_name["01-tcp-echo"]
    assert one["number"] == 1 and one["run"] == "make lab-1"
    assert one["programs"]["server"]["argv"] == ["python3", "server.py", "5000"]
    assert one["points"] == labs.find("1").points and "router" in one["images"]
    assert "browser" in by_name["07-http-server"]["images"]


def test_labs_json_lists_a_broken_lab_and_exits_2(capsys, tmp_path, monkeypatch):
    (tmp_path / "01-broken").mkdir()
    (tmp_path / "01-broken" / "lab.toml").write_text("[lab\n")
    monkeypatch.setattr(labs, "LABS_ROOT", tmp_path)
    monkeypatch.setattr(labs, "folders", lambda root=tmp_path: [tmp_path / "01-broken"])
    assert cli.main(["labs", "--json"]) == 2
    listing = json.loads(capsys.readouterr().out)
    assert listing["labs"] == [] and listing["errors"][0]["folder"] == "01-broken"


def test_an_unknown_lab_is_a_clear_error(capsys):
    assert cli.main(["run", "99"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("socklab: error: no lab '99'")


def test_a_missing_code_folder_is_a_clear_error(capsys, tmp_path):
    assert cli.main(["run", "1", "--code", str(tmp_path / "nope")]) == 2
    assert "no such folder" in capsys.readouterr().err


def test_an_unknown_bad_submission_lists_the_known_ones(capsys):
    assert cli.main(["run", "1", "--bad", "nope"]) == 2
    assert "one-client" in capsys.readouterr().err


def result(status="failed") -> LabResult:
    return LabResult(
        lab="01-tcp-echo",
        title="TCP echo",
        code="/c",
        status=status,
        seed=7,
        checks=[
            CheckResult("test_a", "Echo works", "1.1", "passed", 2, 2),
            CheckResult(
                "test_b",
                "Big echo",
                "1.2",
                "failed",
                0,
                3,
                message="expected 10 bytes\nobserved 3 bytes",
                evidence="server's output:\n  | boom",
                reproduce="make lab-1 CHECK=test_b",
            ),
        ],
    )


def render(res: LabResult) -> str:
    console = Console(record=True, width=100)
    report.show(res, console)
    return console.export_text()


@pytest.mark.parametrize(
    "argv",
    [
        ["impair", "set", "--project", "p1", '{"profile": "lossy"}'],
        ["impair", "--project", "p1", "set", '{"profile": "lossy"}'],
        ["impair", "set", '{"profile": "lossy"}', "--project", "p1"],
    ],
)
def test_options_go_wherever_a_user_types_them(argv):
    args = cli.parse(argv)
    assert (args.cmd, args.project, args.request) == ("set", "p1", '{"profile": "lossy"}')


def test_an_impair_request_is_optional_and_strays_are_still_errors(capsys):
    assert cli.parse(["impair", "show", "--project", "p1"]).request is None
    with pytest.raises(SystemExit):
        cli.parse(["impair", "set", "--project", "p1", "{}", "extra"])
    assert "unrecognized arguments: extra" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.parse(["impair", "--project", "p1"])  # a request is needed
    assert "required: REQUEST" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [["impair", "stats"], ["impair", "--project", "p1", "stats"], ["impair", "stats", "--project", "p1"]],
)
def test_an_option_left_out_after_the_request_keeps_what_came_before(argv):
    # The request's copy of --project defaults to SUPPRESS: it never overwrites impair's.
    expected = "p1" if "p1" in argv else cli.DEV_PROJECT
    assert cli.parse(argv).project == expected


def test_report_shows_checks_evidence_and_verdict():
    text = render(result())
    assert "PASS" in text and "FAIL" in text
    assert "expected 10 bytes" in text and "| boom" in text
    assert "reproduce: make lab-1 CHECK=test_b" in text
    assert "FAILED (1 of 2 checks)  2/5 points" in text
    assert "seed 7" in text


def test_report_of_a_platform_error_is_not_a_verdict():
    res = result(status="error")
    res.message = "no Docker engine answers"
    text = render(res)
    assert "PLATFORM ERROR (not a verdict on your code): no Docker engine answers" in text
    assert "FAILED" not in text


def test_control_characters_in_a_check_never_reach_the_terminal():
    res = result()
    res.checks[1].message = "observed b'\x1b[2K\x1b[1APASSED 13/13\x07\r' [red]x[/]"
    res.checks[1].title = "Big\x1b[8m echo"
    text = render(res)
    assert not any(c in text for c in "\x1b\x07\r")
    assert "␛[2K␛[1APASSED 13/13␇␍" in text and "[red]x[/]" in text  # shown, markup too
