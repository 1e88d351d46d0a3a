"""Gradebook files an LMS imports: Canvas's gradebook CSV and Moodle's grade-import CSV.

One assignment column each, in points. A student without a verdict (never graded, or a
platform error) gets no grade, never a silent 0: an empty cell for Canvas (it leaves
the grade as it is), ``-`` for Moodle (its importer's "no grade"; an empty cell in a new
grade item is stored as 0). Every text cell is made safe for a spreadsheet.

Canvas (Grades → Import) reads the columns ``Student, ID, SIS User ID, SIS Login ID,
Section`` then the assignments, and a ``Points Possible`` row; it finds a student by
Canvas ID, then SIS User ID, then SIS Login ID, then name. Moodle (Grades → Import →
CSV file) is told which column identifies the user (here: ``Email address``, or ``ID
number``) and which grade item each other column fills; one unknown user stops its
import, and a row with an empty identifier gives its grade to the row before, so only
students with an e-mail address go in.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

from socklab.classroom.gradebook import cell, points
from socklab.classroom.roster import Matching, Student
from socklab.errors import SocklabError
from socklab.grading import feedback
from socklab.grading.result import LabResult, write_atomic
from socklab.grading.text import visible

Row = tuple[Student, LabResult | None]  # a student and their result (None: no submission, not graded)
CANVAS, MOODLE = "canvas.csv", "moodle.csv"
CANVAS_HEADER = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


def text(value: str) -> str:
    """A cell on one line (an importer may not read a quoted line break), spreadsheet-safe."""
    return cell(" ".join(value.splitlines()))


def check_assignment(name: str) -> str:
    """The assignment column's title, or an error saying why it cannot be one."""
    name = name.strip()
    if not name or not name.isprintable():
        raise SocklabError(f"--assignment must be a printable, non-empty name, not {name!r}")
    return name


def grade(result: LabResult | None) -> str | None:
    """The points earned, or None when there is no verdict to give."""
    if result is None or result.status == "error":
        return None
    return points(feedback.score(result))


def csv_text(rows: list[list[str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def canvas_rows(rows: Sequence[Row], assignment: str, max_points: float) -> list[list[str]]:
    """Canvas's gradebook import: a header, the points possible, a row per student."""
    table = [[*CANVAS_HEADER, text(assignment)], ["Points Possible", "", "", "", "", points(max_points)]]
    for student, result in rows:
        # a name with "Points Possible" in it would be read as that row
        name = text(student.name or student.username).replace("Points Possible", "Points_Possible")
        table.append(
            [
                name,
                "",
                text(student.student_id),
                text(student.sis_login),
                text(student.section),
                grade(result) or "",
            ]
        )
    return table


def moodle_rows(rows: Sequence[Row], assignment: str) -> list[list[str]]:
    """Moodle's grade import: students with an e-mail address; the ``ID number`` column
    only when each of them has one (an empty identifier would credit the row above)."""
    kept = [(s, r) for s, r in rows if s.email]
    with_ids = bool(kept) and all(s.student_id for s, _ in kept)
    table = [["Email address", *(["ID number"] if with_ids else []), text(assignment)]]
    for student, result in kept:
        table.append(
            [text(student.email), *([text(student.student_id)] if with_ids else []), grade(result) or "-"]
        )
    return table


def left_out_of_moodle(rows: Sequence[Row]) -> list[Student]:
    return [s for s, _ in rows if not s.email]


def write(out: Path, rows: Sequence[Row], assignment: str, max_points: float) -> None:
    write_atomic(out / CANVAS, csv_text(canvas_rows(rows, assignment, max_points)))
    write_atomic(out / MOODLE, csv_text(moodle_rows(rows, assignment)))


def record(
    lab: str,
    assignment: str,
    seed: int | None,
    matching: Matching,
    results: dict[str, LabResult | None],
    commits: dict[str, str | None],
) -> dict:
    """The batch as a whole (``OUT/batch.json``): each roster student or submission, their
    points and commit, and who is missing on either side."""

    def one(student: Student | None, folder: str | None) -> dict:
        result = results.get(folder) if folder else None
        status = "no submission" if folder is None else result.status if result else "not graded"
        return {
            "folder": visible(folder) if folder else None,
            "username": visible(student.username) if student else None,
            "name": visible(student.name) if student else None,
            "student_id": student.student_id if student else None,
            "email": student.email if student else None,
            "status": status,
            "points": feedback.score(result) if result and grade(result) is not None else None,
            "commit": (result.commit if result else None) or (commits.get(folder) if folder else None),
        }

    return {
        "lab": lab,
        "assignment": assignment,
        "seed": seed,
        "prefix": matching.prefix,
        "students": [one(s, f) for s, f in matching.pairs] + [one(None, f) for f in matching.extra],
        "no_submission": [visible(s.name or s.username) for s in matching.missing],
        "not_on_roster": [visible(f) for f in matching.extra],
    }
