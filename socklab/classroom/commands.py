"""The class-scale sub-commands of ``socklab``; socklab.cli adds them to its own.

socklab grade-all LAB SUBMISSIONS --jobs K [--out DIR] [--format F ...] [--redo]
                  [--roster roster.csv] [--assignment NAME]
                  [--hosts user@a,user@b --remote-root PATH --identity KEY]
socklab export-student DIR [--labs 1,4]
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from socklab import i18n, images, runner
from socklab import lab as labs
from socklab.classroom import batch, export, gradebook, lms, roster, summary
from socklab.classroom.batch import Batch, Grader, LocalGrader, ReusingGrader, Submission
from socklab.classroom.gradebook import Entry
from socklab.classroom.schedule import Scheduler
from socklab.classroom.store import FILES, RECORD, Store, check_formats
from socklab.errors import SocklabError
from socklab.grading.feedback import FormatOptions
from socklab.grading.result import LabResult, write_atomic
from socklab.grading.text import visible
from socklab.report import escape

STATUS = {"passed": "[green]passed[/]", "failed": "[red]failed[/]", "error": "[magenta]error[/]"}


def _slots(args: argparse.Namespace, lab: labs.Lab) -> dict[str, list[Grader]]:
    if not args.hosts:
        grader = ReusingGrader if args.reuse_network else LocalGrader
        return {"local": [grader() for _ in range(args.jobs)]}
    from socklab.classroom.hosts import RemoteGrader  # Fabric is needed only here

    hosts = [h.strip() for h in args.hosts.split(",") if h.strip()]
    if len(set(hosts)) != len(hosts):
        raise SocklabError(f"--hosts names a host twice: {args.hosts}")
    return {
        h: [RemoteGrader(h, lab, args.remote_root, args.identity) for _ in range(args.jobs)] for h in hosts
    }


def _report(
    out: Path,
    lab: labs.Lab,
    store: Store,
    subs: list[Submission],
    students: list[roster.Student] | None,
    assignment: str,
    seed: int,
) -> tuple[list[Entry], roster.Matching]:
    entries = [(s.student, store.load(s.student)[0]) for s in subs]
    total = lab.points + lab.hidden_points
    gradebook.write(out / "gradebook.csv", entries, total)
    summary.write(out, f"{lab.title} ({lab.name}): grades", entries, total)
    folders = [s.student for s in subs]
    matching = roster.unlisted(folders) if students is None else roster.match(folders, students)
    results = dict(entries)
    lms.write(out, [(s, results[f] if f else None) for s, f in matching.pairs], assignment, total)
    write_atomic(out / roster.UNMATCHED, lms.csv_text(roster.unmatched_table(matching)))
    batch_record = lms.record(
        lab.name, assignment, seed, matching, results, {s.student: s.commit for s in subs}
    )
    write_atomic(out / RECORD, json.dumps(batch_record, indent=2) + "\n")
    return entries, matching


def cmd_grade_all(args: argparse.Namespace) -> int:
    """Grade every submission of a folder (one sub-folder per student), K at a time."""
    if args.jobs < 1:
        raise SocklabError(f"--jobs must be 1 or more, not {args.jobs}")
    if args.reuse_network and args.hosts:
        raise SocklabError("--reuse-network grades on this machine: not with --hosts")
    lab = labs.find(args.lab)
    assignment = lms.check_assignment(args.assignment or f"socklab lab {lab.number}")
    students = roster.load(Path(args.roster)) if args.roster else None
    names = check_formats([f for spec in args.format or [] for f in spec.split(",") if f])
    options = FormatOptions(
        withhold_hidden_feedback=args.withhold_hidden, hidden_visibility=args.hidden_visibility
    )
    out = Path(args.out or f"grades-{lab.name}")
    store, seed = Store(out), runner.DEFAULT_SEED if args.seed is None else args.seed
    subs = batch.submissions(Path(args.submissions), lab)
    todo, keep = batch.plan(subs, lab, seed, store, redo=args.redo)
    for sub in keep:  # already graded: only the formats asked for now may be missing
        stored = store.load(sub.student)[0]
        if stored and store.missing_formats(sub.student, names):
            store.write_formats(sub.student, stored, names, options)
    console = Console(highlight=False)
    console.print(
        f"{lab.name}: {len(subs)} submissions, {len(todo)} to grade, "
        f"{len(keep)} already graded (--redo grades them again); results in {escape(str(out))}"
    )
    if passed_over := batch.skipped(Path(args.submissions)):
        console.print(f"not submissions, not graded: {escape(', '.join(passed_over))}")
    sched: Scheduler | None = None
    try:
        if todo:
            slots = _slots(args, lab)
            if not args.hosts:
                images.ensure(images.for_lab(lab), log=lambda m: console.print(f"[dim]{m}[/]"))
            sched = _grade(lab, todo, store, seed, names, options, slots, console)
    finally:
        entries, matching = _report(out, lab, store, subs, students, assignment, seed)
    _roster_summary(console, out, matching, students is not None)
    return _conclude(console, out, entries, sched)


def _names(names: list[str], most: int = 10) -> str:
    shown = ", ".join(escape(visible(n)) for n in names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


def _roster_summary(console: Console, out: Path, matching: roster.Matching, rostered: bool) -> None:
    """Who is missing on either side, said where the instructor looks before importing."""
    if not rostered:
        console.print(
            f"no --roster: {lms.CANVAS} names students by folder and {lms.MOODLE} is "
            "empty (it needs e-mail addresses); see docs/instructors.md"
        )
        return
    found = len(matching.pairs) - len(matching.missing)
    console.print(
        f"roster: {len(matching.pairs)} students, {found} with a submission"
        + (f" (prefix {escape(visible(matching.prefix))}- stripped)" if matching.prefix else "")
    )
    if matching.missing:
        console.print(
            f"[yellow]no submission ({len(matching.missing)}):[/] "
            f"{_names([s.name or s.username or s.email for s in matching.missing])}"
        )
    if matching.extra:
        console.print(f"[yellow]not on the roster ({len(matching.extra)}):[/] {_names(matching.extra)}")
    if no_mail := [s.name or s.username for s, _ in matching.pairs if not s.email]:
        console.print(f"[yellow]not in {lms.MOODLE} (no e-mail on the roster):[/] {_names(no_mail)}")
    if matching.missing or matching.extra:
        console.print(f"both lists are in {escape(str(out / roster.UNMATCHED))}")


def _grade(
    lab: labs.Lab,
    todo: list[Submission],
    store: Store,
    seed: int,
    names: list[str],
    options: FormatOptions,
    slots: dict[str, list[Grader]],
    console: Console,
) -> Scheduler:
    columns = (
        TextColumn("grading"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("elapsed"),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("grading", total=len(todo))

        def done(sub: Submission, result: LabResult, host: str) -> None:
            where = "" if host == "local" else f" on {escape(host)}"
            points = f"{result.score:g}/{result.max_score:g}" if result.checks else "—"
            note = f": {escape(result.message.splitlines()[0])}" if result.message else ""
            progress.console.print(f"{escape(sub.student)}: {STATUS[result.status]} {points}{where}{note}")
            progress.advance(task)

        return Batch(lab, todo, store, seed, names, options, done).run(slots)


def _conclude(console: Console, out: Path, entries: list[Entry], sched: Scheduler | None) -> int:
    if sched is not None:
        for host, why in sched.dead.items():
            console.print(f"[yellow]host {escape(host)} dropped:[/] {escape(why)}")
    statuses = [r.status if r else "not graded" for _, r in entries]
    counts = ", ".join(f"{statuses.count(s)} {s}" for s in dict.fromkeys(sorted(statuses)))
    console.print(
        f"{len(entries)} submissions: {counts}. Gradebook "
        f"{escape(str(out / 'gradebook.csv'))}, for the LMS {lms.CANVAS} and {lms.MOODLE}, "
        f"summary {escape(str(out / 'index.html'))}"
    )
    if "not graded" in statuses or "error" in statuses:
        console.print(
            "[magenta]some submissions have no verdict:[/] run the same command again "
            "to grade them (graded ones are kept)"
        )
        return 2
    return 0


def cmd_export_student(args: argparse.Namespace) -> int:
    """Write the repository students receive: no solutions, hidden checks or bad/ folders."""
    chosen = export.choose(args.labs)
    written = export.export(Path(args.dir), chosen, lang=args.lang)
    print(
        f"exported {len(chosen)} labs ({', '.join(lab.name for lab in chosen)}) "
        f"in {len(written)} files to {args.dir}"
    )
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "grade-all": cmd_grade_all,
    "export-student": cmd_export_student,
}


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add this module's sub-commands to the ``socklab`` parser."""
    s = sub.add_parser("grade-all", help=cmd_grade_all.__doc__)
    s.add_argument("lab", help="lab number or folder name")
    s.add_argument("submissions", help="a folder with one sub-folder per student")
    s.add_argument(
        "--jobs", "-j", type=int, default=1, help="lab instances at once (per host with --hosts); default 1"
    )
    s.add_argument("--out", help="where the results go (default grades-NN-slug)")
    s.add_argument(
        "--format",
        action="append",
        help=f"also write each student's result as: {', '.join(FILES)} "
        "(repeat or comma-separate; result.json is always written)",
    )
    s.add_argument("--redo", action="store_true", help="grade again the students already graded")
    s.add_argument(
        "--roster",
        help="a CSV of the class: username (or GitHub Classroom's roster "
        "export as is), name, student_id, email; see docs/instructors.md",
    )
    s.add_argument(
        "--assignment",
        help="the assignment column's title in canvas.csv and moodle.csv (default: socklab lab N)",
    )
    s.add_argument("--seed", type=int, help="seed every random choice with this (default 1)")
    s.add_argument(
        "--reuse-network",
        action="store_true",
        help="keep one lab network per job for the whole batch, reset between two "
        "submissions as in watch mode (faster; not with --hosts)",
    )
    s.add_argument("--hosts", help="grade on these Docker hosts over SSH: user@a,user@b:2222")
    s.add_argument(
        "--remote-root", default="socklab", help="the socklab checkout on each host (default: ~/socklab)"
    )
    s.add_argument("--identity", help="the SSH private key (default: ssh's config and agent)")
    s.add_argument(
        "--withhold-hidden",
        action="store_true",
        help="in the formats, do not show students the feedback of hidden checks",
    )
    s.add_argument(
        "--hidden-visibility",
        default="after_published",
        help="Gradescope visibility of hidden checks (default after_published)",
    )
    i18n.language_arg(s)
    s = sub.add_parser("export-student", help=cmd_export_student.__doc__)
    s.add_argument("dir", help="a new or empty folder")
    s.add_argument("--labs", help="the labs to publish, e.g. 1,4 (default: every ready lab)")
    s.add_argument(
        "--lang",
        help="the students' language, e.g. zh_CN: the README first in it, and "
        "the CI's feedback (default: English)",
    )
