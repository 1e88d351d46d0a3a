"""The class roster: who each submission folder belongs to in the LMS.

A roster is a CSV file. GitHub Classroom's own export (``identifier, github_username,
github_id, name``) is read as it is: its ``identifier`` is what the instructor typed, an
e-mail address or a student number. socklab's columns (any order, any case):

    username   the GitHub username or the submission folder's name (also: github_username, folder)
    student_id the LMS's student number: Canvas's SIS User ID, Moodle's ID number (also: sis_id, idnumber)
    name       the student's name, as the LMS shows it
    email      the student's e-mail address (Moodle matches on it)
    login      Canvas's SIS Login ID (default: the e-mail address)
    section    Canvas's section

GitHub Classroom names a student's repository ``ASSIGNMENT-USERNAME``; ``match`` finds
the assignment prefix the folders share and strips it. Nothing is dropped: a roster
student without a submission and a submission without a roster row are both listed.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from socklab.classroom.gradebook import cell
from socklab.errors import SocklabError

ALIASES = {
    "username": ("username", "github_username", "github", "folder", "login_github"),
    "student_id": ("student_id", "sis_id", "sis_user_id", "idnumber", "id_number", "student_number"),
    "name": ("name", "full_name", "student"),
    "email": ("email", "e-mail", "email_address", "mail"),
    "login": ("login", "sis_login_id", "login_id"),
    "section": ("section",),
    "identifier": ("identifier",),  # GitHub Classroom's: an e-mail or a student number
}


class RosterError(SocklabError):
    """The roster file cannot be read as a roster."""


@dataclass(frozen=True)
class Student:
    """One roster row."""

    username: str  # GitHub username or folder name; "" when the student has not linked one
    name: str = ""
    student_id: str = ""
    email: str = ""
    login: str = ""
    section: str = ""

    @property
    def sis_login(self) -> str:
        return self.login or self.email


def _key(header: str) -> str:
    return header.strip().lower().replace(" ", "_").lstrip("\ufeff")


def parse(text: str, where: str = "roster") -> list[Student]:
    """The students of a roster file's text (see the module's docstring for its columns)."""
    try:
        return _parse(csv.reader(io.StringIO(text.lstrip("\ufeff"))), where)
    except csv.Error as exc:  # a NUL byte, an unterminated quote at the end ...
        raise RosterError(f"{where}: not a CSV file: {exc}") from None


def _parse(reader: Iterator[list[str]], where: str) -> list[Student]:
    header = next(reader, None)
    if not header:
        raise RosterError(f"{where}: empty, not a roster (a CSV file with a header row)")
    keys = [_key(h) for h in header]
    cols = {
        field: next((i for i, k in enumerate(keys) if k in names), None) for field, names in ALIASES.items()
    }
    if cols["username"] is None:
        raise RosterError(
            f"{where}: no username column (github_username, username or folder); "
            f"its columns are {', '.join(header)}"
        )
    students, seen = [], set()
    for line, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue

        def get(field: str, row: list[str] = row) -> str:
            i = cols[field]
            return row[i].strip() if i is not None and i < len(row) else ""

        ident = get("identifier")
        email = get("email") or (ident if "@" in ident else "")
        student_id = get("student_id") or (ident if ident and "@" not in ident else "")
        student = Student(get("username"), get("name"), student_id, email, get("login"), get("section"))
        if student.username and student.username.lower() in seen:
            raise RosterError(f"{where}, line {line}: {student.username} is on the roster twice")
        seen.add(student.username.lower())
        students.append(student)
    return students


def load(path: Path) -> list[Student]:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise RosterError(f"{path}: cannot read the roster: {exc.strerror}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")  # what a spreadsheet saves as "CSV"
    return parse(text, str(path))


@dataclass(frozen=True)
class Matching:
    """Which folder is whose."""

    pairs: list[tuple[Student, str | None]]  # every roster student, with their folder or None
    extra: list[str]  # folders that are nobody's on the roster
    prefix: str = ""  # the GitHub Classroom assignment prefix stripped, if any

    @property
    def missing(self) -> list[Student]:
        return [s for s, folder in self.pairs if folder is None]

    def student(self, folder: str) -> Student | None:
        return next((s for s, f in self.pairs if f == folder), None)


def assignment_prefix(folders: Sequence[str], usernames: Sequence[str]) -> str:
    """The prefix most folders share before ``-USERNAME`` (GitHub Classroom's repository
    names), or "" when none ends in a roster username."""
    names = {u.lower() for u in usernames if u}
    votes: Counter[str] = Counter()
    for folder in folders:
        low = folder.lower()
        for cut in range(1, len(low)):
            if low[cut - 1] == "-" and low[cut:] in names:
                votes[folder[: cut - 1]] += 1
    return max(votes, key=lambda p: (votes[p], -len(p))) if votes else ""


def match(folders: Sequence[str], students: Sequence[Student]) -> Matching:
    """Each roster student's folder: named as their username, or ``PREFIX-username``
    (case does not matter, as on GitHub)."""
    prefix = assignment_prefix(folders, [s.username for s in students])
    by_name = {s.username.lower(): s for s in students if s.username}
    owner: dict[str, str] = {}  # username -> folder
    extra = []
    for folder in folders:
        low = folder.lower()
        name = low[len(prefix) + 1 :] if prefix and low.startswith(prefix.lower() + "-") else low
        if low in by_name and low not in owner:
            owner[low] = folder
        elif name in by_name and name not in owner:
            owner[name] = folder
        else:
            extra.append(folder)
    return Matching(
        [(s, owner.get(s.username.lower()) if s.username else None) for s in students], extra, prefix
    )


def unlisted(folders: Sequence[str]) -> Matching:
    """The matching without a roster: each folder is a student named as the folder."""
    return Matching([(Student(f, name=f), f) for f in folders], [])


UNMATCHED = "unmatched.csv"


def unmatched_table(matching: Matching) -> list[list[str]]:
    """The roster students without a submission and the submissions nobody on the roster
    owns, one row each: what an instructor checks before importing grades."""
    rows = [["problem", "folder", "username", "name", "student_id", "email"]]
    rows += [
        ["no submission", "", cell(s.username), cell(s.name), cell(s.student_id), cell(s.email)]
        for s in matching.missing
    ]
    rows += [["not on the roster", cell(f), "", "", "", ""] for f in matching.extra]
    return rows
