"""What instructors import: the roster, who is whose, Canvas's and Moodle's CSV files,
the batch's record and the list of who is missing on either side."""

from __future__ import annotations

import csv
import io
import json
import os

import pytest

from socklab import lab as labs
from socklab.classroom import batch, lms, roster
from socklab.classroom.roster import Student
from socklab.classroom.store import Record, Store
from socklab.cli import main
from socklab.grading.feedback import FormatOptions
from socklab.grading.result import CheckResult, LabResult


def res(earned: float, of: float = 6, status=None) -> LabResult:
    checks = [CheckResult("test_a", "A", "1.1", "passed" if earned else "failed", earned, of)]
    return LabResult(
        lab="01-tcp-echo",
        title="TCP echo",
        code="/c",
        checks=checks,
        status=status or ("passed" if earned == of else "failed"),
    )


def read(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


CLASSROOM_EXPORT = (  # GitHub Classroom's roster download, as it comes (a BOM, CRLF)
    '\ufeff"identifier","github_username","github_id","name"\r\n'
    '"ann@uni.edu","Ann-Lee","101","Ann Lee"\r\n'
    '"20231234","bob","102","Bob Roe"\r\n'
    '"carl@uni.edu","","","Carl Poe"\r\n'  # has not accepted an assignment yet
)


def test_github_classrooms_roster_export_is_read_as_it_is():
    students = roster.parse(CLASSROOM_EXPORT)
    assert students == [
        Student("Ann-Lee", "Ann Lee", email="ann@uni.edu"),
        Student("bob", "Bob Roe", student_id="20231234"),
        Student("", "Carl Poe", email="carl@uni.edu"),
    ]


def test_socklabs_roster_columns_in_any_order_and_case():
    students = roster.parse(
        'Name,E-mail,Student ID,Folder,Section,Login\n"Roe, Bob",bob@uni.edu,007,bob,S1,broe\n\n'
    )
    assert students == [Student("bob", "Roe, Bob", "007", "bob@uni.edu", "broe", "S1")]
    assert students[0].sis_login == "broe"
    assert Student("x", email="x@uni.edu").sis_login == "x@uni.edu"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "empty"),
        ("name,email\nAnn,a@b\n", "no username column"),
        ("username,name\nann,Ann\nANN,Ann again\n", "line 3: ANN is on the roster twice"),
        ('username\n"' + "a" * 200_000 + '"\n', "not a CSV file: field larger"),
    ],
)
def test_a_roster_that_is_not_one_says_why(text, says):
    with pytest.raises(roster.RosterError, match=says):
        roster.parse(text, "roster.csv")


def test_a_roster_saved_by_a_spreadsheet_in_cp1252_is_read(tmp_path):
    (tmp_path / "r.csv").write_bytes("username,name\njose,Jos\xe9\n".encode("cp1252"))
    assert roster.load(tmp_path / "r.csv") == [Student("jose", "José")]
    with pytest.raises(roster.RosterError, match="cannot read"):
        roster.load(tmp_path / "missing.csv")


def test_classroom_repositories_match_their_owner_once_the_assignment_prefix_is_stripped():
    students = roster.parse(CLASSROOM_EXPORT)
    folders = ["lab-1-ann-lee", "lab-1-bob", "lab-1-zed", ".stray"]
    m = roster.match(folders, students)
    assert m.prefix == "lab-1"
    assert m.pairs == [(students[0], "lab-1-ann-lee"), (students[1], "lab-1-bob"), (students[2], None)]
    assert m.missing == [students[2]] and m.extra == ["lab-1-zed", ".stray"]
    assert m.student("lab-1-bob") == students[1] and m.student("lab-1-zed") is None


def test_a_folder_named_as_the_username_matches_and_nobody_matches_twice():
    students = [Student("ann"), Student("bob"), Student("lee")]
    m = roster.match(["ann", "ANN", "x-ann-lee", os.fsdecode(b"b\xffb")], students)
    assert m.pairs == [(students[0], "ann"), (students[1], None), (students[2], "x-ann-lee")]
    assert m.extra == ["ANN", os.fsdecode(b"b\xffb")]


def test_without_a_roster_each_folder_is_its_own_student():
    m = roster.unlisted(["ann", "bob"])
    assert [(s.name, f) for s, f in m.pairs] == [("ann", "ann"), ("bob", "bob")] and not m.extra


HOSTILE = '=HYPERLINK("x"),\n"Points Possible'
ROWS = [
    (Student("ann", "Lee, Ann", "001", "ann@uni.edu", section="S1"), res(6)),
    (Student("bob", "Bob", "002", "bob@uni.edu"), res(0)),
    (Student("carl", "Carl", "003", "carl@uni.edu"), None),  # no submission
    (Student("dan", "Dan", "004", "dan@uni.edu"), res(0, status="error")),  # platform error
    (Student("eve", HOSTILE, "", "+eve@uni.edu"), res(2, of=2)),
]


def test_canvas_gets_its_columns_a_points_possible_row_and_points_or_an_empty_cell(tmp_path):
    lms.write(tmp_path, ROWS, "socklab lab 1", 6)
    rows = read((tmp_path / lms.CANVAS).read_text(encoding="utf-8"))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "socklab lab 1"]
    assert rows[1] == ["Points Possible", "", "", "", "", "6"]
    assert rows[2] == ["Lee, Ann", "", "001", "ann@uni.edu", "S1", "6"]
    assert rows[3][-1] == "0"  # a verdict of 0 is a 0
    assert rows[4][-1] == "" and rows[5][-1] == ""  # no verdict is no grade, never 0
    name, _, _, login, _, points = rows[6]
    assert name.startswith("'=HYPERLINK") and "\n" not in name and "Points Possible" not in name
    assert (login, points) == ("'+eve@uni.edu", "2")
    assert len(rows) == 7


def test_moodle_gets_an_identifier_column_and_a_grade_or_its_no_grade_mark(tmp_path):
    lms.write(tmp_path, ROWS, "socklab lab 1", 6)
    rows = read((tmp_path / lms.MOODLE).read_text(encoding="utf-8"))
    assert rows[0] == ["Email address", "socklab lab 1"]  # eve has no ID number: no such column
    assert rows[1:] == [
        ["ann@uni.edu", "6"],
        ["bob@uni.edu", "0"],
        ["carl@uni.edu", "-"],
        ["dan@uni.edu", "-"],
        ["'+eve@uni.edu", "2"],
    ]


def test_moodle_leaves_out_who_has_no_email_and_has_id_numbers_when_all_do():
    rows = [(Student("ann", "Ann", "001", "ann@uni.edu"), res(6)), (Student("bob", "Bob", "002"), res(6))]
    assert lms.moodle_rows(rows, "Lab 1") == [
        ["Email address", "ID number", "Lab 1"],
        ["ann@uni.edu", "001", "6"],
    ]
    assert lms.left_out_of_moodle(rows) == [rows[1][0]]


@pytest.mark.parametrize("name", ["", "  ", "lab\n1"])
def test_an_assignment_name_must_be_printable(name):
    with pytest.raises(lms.SocklabError, match="--assignment"):
        lms.check_assignment(name)


def test_the_batch_record_lists_everyone_with_points_commit_and_both_missing_lists():
    students = [Student("ann", "Ann", email="a@u"), Student("bob", "Bob")]
    m = roster.match(["hw-ann", os.fsdecode(b"hw-z\xff")], students)
    results = {"hw-ann": res(6), os.fsdecode(b"hw-z\xff"): None}
    results["hw-ann"].commit = "a" * 40
    rec = lms.record("01-tcp-echo", "Lab 1", 1, m, results, {})
    json.dumps(rec, ensure_ascii=False).encode()  # valid UTF-8: no lone surrogate
    assert rec["students"][0] == {
        "folder": "hw-ann",
        "username": "ann",
        "name": "Ann",
        "student_id": "",
        "email": "a@u",
        "status": "passed",
        "points": 6,
        "commit": "a" * 40,
    }
    assert rec["students"][1]["status"] == "no submission" and rec["students"][1]["folder"] is None
    assert rec["students"][2]["status"] == "not graded" and rec["students"][2]["username"] is None
    assert rec["no_submission"] == ["Bob"] and rec["not_on_roster"] == ["hw-z\\xff"]


def test_the_unmatched_file_lists_both_sides():
    m = roster.match(["x-ann", "=cmd"], [Student("ann"), Student("bob", "Bob", email="b@u")])
    assert roster.unmatched_table(m)[1:] == [
        ["no submission", "", "bob", "Bob", "", "b@u"],
        ["not on the roster", "'=cmd", "", "", "", ""],
    ]


def test_grade_all_with_nothing_left_to_grade_writes_the_lms_files_and_lists_both_sides(tmp_path, capsys):
    lab = labs.find("1")
    subs = tmp_path / "subs"
    for name in ("lab-1-ann-lee", "lab-1-bob", "lab-1-zed"):
        (subs / name).mkdir(parents=True)
        (subs / name / "server.py").write_text(f"# {name}\n")
    store = Store(tmp_path / "out")
    for sub in batch.submissions(subs, lab):  # graded before: this run grades nothing
        store.save(res(6), Record(sub.student, lab.name, sub.digest, 1, "local", "t"), [], FormatOptions())
    (tmp_path / "roster.csv").write_text(CLASSROOM_EXPORT, encoding="utf-8")
    code = main(
        [
            "grade-all",
            "1",
            str(subs),
            "--out",
            str(tmp_path / "out"),
            "--roster",
            str(tmp_path / "roster.csv"),
            "--assignment",
            "Lab 1",
        ]
    )
    said = " ".join(capsys.readouterr().out.split())
    assert code == 0, said
    assert "roster: 3 students, 2 with a submission (prefix lab-1- stripped)" in said
    assert "no submission (1): Carl Poe" in said and "not on the roster (1): lab-1-zed" in said
    assert "not in moodle.csv (no e-mail on the roster): Bob Roe" in said
    out = tmp_path / "out"
    canvas = read((out / lms.CANVAS).read_text())
    assert [r[0] for r in canvas] == ["Student", "Points Possible", "Ann Lee", "Bob Roe", "Carl Poe"]
    assert [r[-1] for r in canvas[2:]] == ["6", "6", ""]
    assert read((out / lms.MOODLE).read_text()) == [
        ["Email address", "Lab 1"],
        ["ann@uni.edu", "6"],
        ["carl@uni.edu", "-"],
    ]
    rec = json.loads((out / "batch.json").read_text())
    assert rec["assignment"] == "Lab 1" and rec["not_on_roster"] == ["lab-1-zed"]
    assert rec["no_submission"] == ["Carl Poe"]
    assert [r[0] for r in read((out / roster.UNMATCHED).read_text())] == [
        "problem",
        "no submission",
        "not on the roster",
    ]
