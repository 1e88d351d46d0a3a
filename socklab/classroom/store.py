"""A batch's output folder: one folder per student, written so that a crash loses nothing.

``OUT/students/NAME/`` holds ``result.json`` (socklab's complete result, hidden checks'
feedback included: it is the instructor's copy), ``report.html`` (the report as
``make lab-N`` prints it), one file per requested format, and last ``batch.json``, the
record that the student is graded: which submission (a digest of its files, and its git
commit when it is a checkout), which seed, where. ``artifacts/`` is the run's own folder
(logs, captures, diagrams), moved there from ``runs/``. A student without ``batch.json``
is not graded, whatever else is there.
"""

from __future__ import annotations

import io
import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from rich.console import Console

from socklab import report
from socklab.errors import SocklabError
from socklab.grading import feedback, formats
from socklab.grading.feedback import FormatOptions
from socklab.grading.result import LabResult, load, save, write_atomic
from socklab.grading.text import in_html

# What each format is called in a student's folder; json is as students see it
# (hidden feedback withheld if asked), result.json always the complete one.
FILES = {
    "gradescope": "gradescope.json",
    "classroom": "classroom.json",
    "junit": "junit.xml",
    "prairielearn": "prairielearn.json",
    "json": "socklab.json",
    "text": "report.txt",
}
RESULT, RECORD, REPORT, ARTIFACTS = "result.json", "batch.json", "report.html", "artifacts"


def check_formats(names: list[str]) -> list[str]:
    unknown = [n for n in names if n not in FILES]
    if unknown:
        raise SocklabError(f"unknown format {unknown[0]!r}; known: {', '.join(FILES)}")
    return list(dict.fromkeys(names))


@dataclass(frozen=True)
class Record:
    """That a student is graded: the lab, the submission's digest, the seed, the host."""

    student: str
    lab: str
    digest: str
    seed: int | None
    host: str
    graded_at: str  # the result's started_at
    commit: str | None = None  # the submission's git HEAD, when it is a checkout


class Store:
    def __init__(self, out: Path) -> None:
        self.out = Path(out)

    def folder(self, student: str) -> Path:
        return self.out / "students" / student

    def load(self, student: str) -> tuple[LabResult | None, Record | None]:
        """The stored result and record; None for what is missing or unreadable."""
        folder = self.folder(student)
        try:
            record = Record(**json.loads((folder / RECORD).read_text()))
            result = load(folder / RESULT)
        except (OSError, ValueError, TypeError):  # missing, torn or foreign: not graded
            return None, None
        return result, record

    def keep_artifacts(self, student: str, run: Path) -> Path:
        """Move a run's folder (logs, captures, diagrams) into the student's ``artifacts/``;
        where it is now, or ``run`` when there is none to move."""
        if not run.is_dir():
            return run
        target = self.folder(student) / ARTIFACTS
        if target.exists():
            shutil.rmtree(target)  # graded again: the new run replaces the old one
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(run, target)
        return target.absolute()

    def forget(self, student: str) -> None:
        """Mark the student not graded before grading again."""
        (self.folder(student) / RECORD).unlink(missing_ok=True)

    def save(self, result: LabResult, record: Record, names: list[str], options: FormatOptions) -> None:
        folder = self.folder(record.student)
        save(result, folder / RESULT)
        self.write_formats(record.student, result, names, options)
        write_atomic(folder / RECORD, json.dumps(asdict(record), indent=2) + "\n")  # last

    def write_formats(
        self, student: str, result: LabResult, names: list[str], options: FormatOptions
    ) -> None:
        """The report page and every requested format, from the stored result."""
        folder = self.folder(student)
        write_atomic(folder / REPORT, html_report(result, student))
        for name in names:
            path = folder / FILES[name]
            if name == "text":
                write_atomic(path, text_report(feedback.for_students(result, options)))
            else:
                formats.write(result, name, path, options)

    def missing_formats(self, student: str, names: list[str]) -> bool:
        folder = self.folder(student)
        return any(not (folder / f).exists() for f in [REPORT, *(FILES[n] for n in names)])


def _recorded(result: LabResult, width: int = 100) -> Console:
    console = Console(file=io.StringIO(), record=True, width=width, color_system="truecolor")
    report.show(result, console)
    return console


def text_report(result: LabResult) -> str:
    return _recorded(result).export_text()


def html_report(result: LabResult, student: str) -> str:
    # rich escapes the text it exports; the title is ours to escape
    page = _recorded(result).export_html(inline_styles=True)
    title = f"{in_html(student)}: {in_html(result.lab)}"
    return page.replace("<head>", f"<head>\n<title>{title}</title>", 1)
