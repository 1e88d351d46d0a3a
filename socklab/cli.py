"""The ``socklab`` command: ``main(argv) -> int``; sub-commands are plain functions."""

from __future__ import annotations

import argparse
import base64
import contextlib
import io
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from rich.console import Console

from socklab import (
    __version__,
    compose,
    congestion,
    demo,
    demo_report,
    doctor,
    engine,
    i18n,
    images,
    impairing,
    report,
    runner,
)
from socklab import lab as labs
from socklab import watch as watching
from socklab.classroom import commands as classroom
from socklab.errors import LabError, PlatformError, SocklabError
from socklab.grading import classroom as classroom_format
from socklab.grading import feedback, formats
from socklab.grading.result import LabResult, save, write_atomic
from socklab.grading.text import visible
from socklab.i18n import _, ngettext

DEV_PROJECT = "socklab-dev"  # the topology `socklab up` leaves running


def _console() -> Console:
    return Console(stderr=False, highlight=False)


def _code(lab: labs.Lab, args: argparse.Namespace) -> tuple[Path, Path | None]:
    """The code under test, and a temporary folder to remove afterwards (for a bad one)."""
    if args.bad:
        if args.code:
            raise LabError(_("give --code or --bad, not both"))
        bad = lab.bad(args.bad)
        tmp = labs.lay_over(lab.solution, bad.path)
        return tmp, tmp
    code = Path(args.code).resolve() if args.code else lab.default_code()
    if not code.is_dir():
        raise LabError(_("CODE={code}: no such folder").format(code=args.code))
    return code, None


def _reproduce(lab: labs.Lab, args: argparse.Namespace) -> str:
    if args.bad:
        return f"make lab-{lab.number} BAD={args.bad}"
    if args.code:
        return f"make lab-{lab.number} CODE={shlex.quote(args.code)}"
    return f"make lab-{lab.number}"


def cmd_run(args: argparse.Namespace) -> int:
    """Run a lab's checker on some code and print the verdict."""
    lab = labs.find(args.lab)
    if args.watch and args.bad:
        raise LabError(_("--watch checks your own code again each time you save it: give --code, not --bad"))
    code, tmp = _code(lab, args)
    console = _console()
    missing = lab.missing_files(code)
    if missing:
        note = _("note:")
        console.print(
            f"[yellow]{note}[/] "
            + _("{code} has no {files}: the checks that need it will fail").format(
                code=code, files=", ".join(missing)
            )
        )
    if args.watch:
        return _watch(lab, code, args, console)
    try:
        result = runner.run(
            lab,
            code,
            select=args.k,
            seed=args.seed,
            profile=args.profile,
            reproduce=_reproduce(lab, args),
            log=lambda msg: console.print(f"[dim]{msg}[/]"),
            show=lambda res: report.show(res, console),
        )
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        save(result, Path(args.json))
    return result.exit_code


def _watch(lab: labs.Lab, code: Path, args: argparse.Namespace, console: Console) -> int:
    """``run --watch``: the verdict again each time a file of ``code`` is saved, until Ctrl-C."""

    def show(result: LabResult, edited: list[str]) -> None:
        if edited:
            names = ", ".join(os.path.relpath(p, code) for p in edited[:4])
            console.rule(_("saved: {files}").format(files=names + (" ..." if len(edited) > 4 else "")))
        report.show(result, console)
        if session.kept:
            console.print(
                "[dim]"
                + _(
                    "{count} checks not run again: they start no program whose file you "
                    "edited, so their last verdicts stand"
                ).format(count=len(session.kept))
                + "[/]"
            )
        console.print(
            "[dim]"
            + _(
                "watching {code}: save a file to check again; Ctrl-C stops (verdict in {seconds:.1f} s)"
            ).format(code=code, seconds=result.duration)
            + "[/]"
        )
        if args.json:
            save(result, Path(args.json))

    last = 2
    try:
        with watching.Session(
            lab,
            code,
            seed=args.seed,
            profile=args.profile,
            select=args.k,
            reproduce=_reproduce(lab, args),
            log=lambda msg: console.print(f"[dim]{msg}[/]"),
        ) as session:
            for result in watching.watch(session, show):
                last = result.exit_code
    except KeyboardInterrupt:
        console.print(_("stopped; the lab's network is removed"))
    return last


def _student_path(submission: str) -> str:
    """The submission as the student names it: relative to their repository (the working
    folder in CI), never the grader's absolute path."""
    code = Path(submission).resolve()
    try:
        return str(code.relative_to(Path.cwd().resolve()))
    except ValueError:
        return "."  # graded from outside: the folder is the student's repository itself


def cmd_grade(args: argparse.Namespace) -> int:
    """Grade a submission, hidden checks included, and write the result in one format.

    A result is written whatever happens: a platform failure becomes a result with
    status "error" (exit 2) that tells the student it is not their fault.
    """
    options = formats.FormatOptions(
        withhold_hidden_feedback=args.withhold_hidden, hidden_visibility=args.hidden_visibility
    )
    if args.format != "text" and args.format not in formats.FORMATS:
        raise SocklabError(f"unknown format {args.format!r}; known: text, {', '.join(formats.FORMATS)}")
    lab = None
    try:
        lab = labs.find(args.lab)
        code = Path(args.submission).resolve()
        if not code.is_dir():
            raise LabError(f"{args.submission}: no such submission folder")
        reproduce = f"make lab-{lab.number} CODE={shlex.quote(_student_path(args.submission))}"
        result = runner.run(lab, code, seed=args.seed, hidden=True, reproduce=reproduce)
    except SocklabError as exc:
        result = LabResult(
            lab=str(args.lab),
            title=lab.title if lab else "",
            code=str(args.submission),
            status="error",
            message=str(exc),
            version=__version__,
        )
    if args.format == "text":
        console = Console(file=io.StringIO(), record=True, width=100) if args.out else _console()
        report.show(feedback.for_students(result, options), console)
        if args.out:
            write_atomic(Path(args.out), console.export_text())
    elif args.out:
        formats.write(result, args.format, Path(args.out), options)
        print(_graded(result, args.out))
    else:
        sys.stdout.write(formats.FORMATS[args.format](result, options))
    if args.format == "classroom":
        _to_github(result, lab, options)
    return result.exit_code


def _graded(result: LabResult, out: str) -> str:
    """What ``grade --out`` says on the terminal: the lab, its points, where the file is."""
    if result.status == "error":
        return f"{feedback.platform_error(result)}\nwrote {visible(out)}"
    return (
        f"{feedback.summary(result)}: {feedback.score(result):g} of "
        f"{result.max_score:g} points\nwrote {visible(out)}"
    )


def _to_github(result: LabResult, lab: labs.Lab | None, options: formats.FormatOptions) -> None:
    """In GitHub Actions: each reporter runner's output, and the job summary."""
    if os.environ.get("GITHUB_OUTPUT"):
        outputs = {"result": base64.b64encode(formats.classroom(result, options).encode()).decode()}
        if lab:
            outputs |= classroom_format.outputs(result, lab.number, lab.graded_points, options)
        with open(os.environ["GITHUB_OUTPUT"], "a") as gh:
            gh.writelines(f"{name}={value}\n" for name, value in outputs.items())
    if os.environ.get("GITHUB_STEP_SUMMARY"):
        with open(os.environ["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as gh:
            gh.write(formats.summary(result, options) + "\n")


def cmd_images(args: argparse.Namespace) -> int:
    """Build every image the labs here need that is missing or out of date (--common: only every lab's)."""
    needed: tuple[str, ...] = images.ALL
    if not args.common:
        for folder in labs.folders():
            with contextlib.suppress(LabError):  # `socklab labs` says what is wrong with it
                needed += tuple(n for n in images.for_lab(labs.load(folder)) if n not in needed)
    built = images.ensure(needed, force=args.force, log=print)
    for name, seconds in built.items():
        print(_("built {image} in {seconds:.1f} s").format(image=images.BY_NAME[name].tag, seconds=seconds))
    if not built:
        print(_("images are up to date"))
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    """Start a lab's topology and leave it running, for exploring by hand."""
    lab = labs.find(args.lab)
    code, _tmp = _code(lab, args)
    images.ensure(images.for_lab(lab), log=print)
    profile = labs.known_profile(args.profile or lab.profile)
    impairment = None
    if profile != "clean":
        artifacts = runner.runs_dir() / args.project
        artifacts.mkdir(parents=True, exist_ok=True)
        impairment = compose.Impairment(profile, args.seed, artifacts)
    topo = compose.up(code, project=args.project, impairment=impairment, images=lab.images)
    print(
        _("{lab} is up (project {project}); code {code} is at /lab/code").format(
            lab=lab.name, project=topo.project, code=code
        )
    )
    if impairment:
        print(
            _(
                "the link is impaired: profile {profile}, seed {seed}; event log {log}; see "
                "`socklab impair show`"
            ).format(profile=profile, seed=args.seed, log=impairment.artifacts / impairing.EVENTS)
        )
    for service, address in topo.addresses().items():
        print(f"  {service:14} {address}")
    print(
        _("next: {commands}").format(
            commands="socklab shell client | socklab shell server | socklab watch | socklab down"
        )
    )
    return 0


def cmd_impair(args: argparse.Namespace) -> int:
    """Show or change the impairment of a running lab (socklab up): show, set, reset, stats, log."""
    try:
        fields = json.loads(args.request or "{}")
    except json.JSONDecodeError as exc:
        raise SocklabError(f"the request must be JSON, not {args.request!r}: {exc}") from None
    reply = impairing.request(f"{args.project}-impair", args.cmd, **fields)
    text = reply.pop("text", None)
    print(json.dumps(reply, indent=2) if args.cmd != "stats" or not text else "")
    if text:
        print("\n".join(text) if isinstance(text, list) else text)
    return 0 if reply.get("ok") else 1


def _exec(argv: list[str]) -> int:
    return subprocess.call(argv)


def cmd_shell(args: argparse.Namespace) -> int:
    """Open a shell in a container of the running topology (as the student user)."""
    user = "0" if args.service == "router" else "student"
    tty = ["-it"] if sys.stdin.isatty() else ["-i"]
    return _exec(
        [
            "docker",
            "exec",
            *tty,
            "-u",
            user,
            "-w",
            "/scratch" if user != "0" else "/",
            f"{args.project}-{args.service}",
            "/bin/sh",
            *(["-c", args.c] if args.c else []),
        ]
    )


# The router's interface on the client's network, found by the route to the client: one
# interface, so each packet shows once (on 'any' a forwarded packet shows in and out).
WATCH = (
    'dev=$(ip -o -4 route get "$(getent hosts client | cut -d" " -f1)" '
    '| sed -n "s/.* dev \\([^ ]*\\).*/\\1/p") '
    '&& exec tcpdump -n -l -i "$dev" "$@"'
)


def cmd_watch(args: argparse.Namespace) -> int:
    """Watch the traffic crossing the router on the client's network, with tcpdump."""
    return _exec(
        [
            "docker",
            "exec",
            *(["-t"] if sys.stdout.isatty() else []),
            f"{args.project}-router",
            "sh",
            "-c",
            WATCH,
            "sh",
            *(["-c", str(args.count)] if args.count else []),
            *(args.filter or ["not", "arp"]),
        ]
    )


def cmd_down(args: argparse.Namespace) -> int:
    """Stop and remove the topology `socklab up` started."""
    compose.down(args.project)
    print(_("{project} is down").format(project=args.project))
    return 0


def cmd_clean(args: argparse.Namespace) -> int:
    """Remove every container, network and volume labelled as socklab's (and its images)."""
    removed = compose.remove(*([f"{engine.RUN_LABEL}={args.run}"] if args.run else []))
    if args.images:
        removed += images.remove()
    count = ngettext("removed {n} socklab resource", "removed {n} socklab resources", len(removed))
    print(count.format(n=len(removed)) + (f": {', '.join(removed)}" if removed else ""))
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    """Report what this machine supports (Docker, Compose, registry, NFQUEUE, disk) and how to fix it."""
    facts = doctor.gather()
    findings = doctor.advise(facts)
    ok = all(f.ok or not f.needed for f in findings)
    if args.json:
        print(json.dumps(doctor.to_json(facts, findings), indent=2, ensure_ascii=False))
    else:
        print(doctor.render(findings))
    return 0 if ok else 2


def cmd_demo(args: argparse.Namespace) -> int:
    """Send the same data over TCP and over UDP through a lossy router: a table, a CSV, a plot."""
    console = _console()

    def log(msg: str) -> None:
        console.print(f"[dim]{msg}[/]")

    if args.cc_list:
        console.print(demo.offered(seed=args.seed, log=log).describe())
        return 0
    losses, ccs = demo.parse_losses(args.losses), congestion.parse(args.cc)
    rows = demo.sweep(
        losses,
        ccs=ccs,
        loss_on=args.loss_on,
        delay_ms=args.delay_ms,
        seed=args.seed,
        size=args.size,
        tcp_timeout=args.tcp_timeout,
        log=log,
    )
    console.print(demo_report.table(rows))
    csv_path, png_path = demo_report.save(rows, Path(args.out), seed=args.seed)
    console.print(f"wrote {csv_path} and {png_path}")
    for problem in demo_report.violations(rows):
        console.print(f"[yellow]unexpected:[/] {problem}")
    return 0


def cmd_labs(args: argparse.Namespace) -> int:
    """List the labs (and say what is wrong with any that does not load); --json for scripts."""
    found, broken = [], []
    for folder in labs.folders():
        try:
            found.append(labs.load(folder))
        except LabError as exc:
            broken.append({"folder": folder.name, "error": str(exc)})
    if args.json:
        print(json.dumps({"labs": [_lab_record(lab) for lab in found], "errors": broken}, indent=2))
        return 2 if broken else 0
    for lab in found:
        points = ngettext(" ({n} point)", " ({n} points)", lab.points).format(n=lab.points)
        print(f"{lab.number:2d}  {lab.name:28} {i18n.pgettext('lab title', lab.title)}{points}")
    for error in broken:
        print(f"    {error['folder']:28} socklab: error: {error['error']}", file=sys.stderr)
    return 2 if broken else 0


IMPAIR_REQUESTS = {
    "show": None,
    "set": """'{"profile": "lossy"}' or '{"update": {"c2s": {"loss": 0.2}}}'""",
    "reset": None,
    "stats": None,
    "log": """'{"last": 20}'""",
}


def impair_commands(s: argparse.ArgumentParser) -> None:
    """``impair``'s requests as subcommands, each taking ``impair``'s own options too.

    The options sit on ``impair`` and, through a parent parser, on every request, so
    ``impair --project X set ...`` and ``impair set --project X ...`` both work. The
    requests' copies default to SUPPRESS: left out there, they keep what ``impair`` parsed.
    """

    def options(p: argparse.ArgumentParser, default: object) -> None:
        p.add_argument(
            "--project", default=default, help=f"the running lab's Compose project (default {DEV_PROJECT})"
        )

    options(s, DEV_PROJECT)
    shared = argparse.ArgumentParser(add_help=False)
    options(shared, argparse.SUPPRESS)
    requests = s.add_subparsers(dest="cmd", required=True, metavar="REQUEST")
    for name, example in IMPAIR_REQUESTS.items():
        r = requests.add_parser(name, parents=[shared], help=f"the engine's {name} request")
        r.add_argument(
            "request",
            nargs="?",
            help=f"the request's fields as JSON, e.g. {example}"
            if example
            else "the request's fields as JSON (none needed)",
        )


def _lab_record(lab: labs.Lab) -> dict[str, object]:
    """A lab as ``socklab labs --json`` gives it: what a script needs to run or grade it."""
    return {
        "number": lab.number,
        "name": lab.name,
        "title": lab.title,
        "points": lab.points,
        "hidden_points": lab.hidden_points,
        "graded_points": lab.graded_points,
        "profile": lab.profile,
        "timeout": lab.timeout,
        "programs": {
            name: {"host": p.host, "file": p.file, "argv": list(p.argv)} for name, p in lab.programs.items()
        },
        "images": list(images.for_lab(lab)),
        "run": f"make lab-{lab.number}",
        "readme": str(lab.path / "README.md"),
    }


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="socklab", description="socket programming labs on a real network")
    p.add_argument("--version", action="version", version=f"socklab {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    def code_args(s: argparse.ArgumentParser) -> None:
        s.add_argument("lab", help="lab number or folder name, e.g. 1 or 01-tcp-echo")
        s.add_argument(
            "--code",
            help="the folder with the code to check (default: the solution, "
            "or the starter where there is none)",
        )
        s.add_argument("--bad", help="run one of the lab's known-wrong submissions instead")

    s = sub.add_parser("run", help=cmd_run.__doc__)
    code_args(s)
    s.add_argument("--profile", help="impair the link with this profile instead of the lab's")
    s.add_argument("-k", help="run only the checks matching this pytest -k expression")
    s.add_argument("--seed", type=int, help="seed every random choice with this (default 1)")
    s.add_argument("--json", help="also write the result as JSON to this file")
    s.add_argument(
        "--watch",
        action="store_true",
        help="keep the lab's network up and check again each time a file of the code is saved (Ctrl-C stops)",
    )
    i18n.language_arg(s)
    s = sub.add_parser("grade", help=cmd_grade.__doc__.splitlines()[0])  # type: ignore[union-attr]
    s.add_argument("lab", help="lab number or folder name")
    s.add_argument("submission", help="the folder of the submission")
    s.add_argument(
        "--format",
        default="text",
        help="text (default), gradescope, classroom, junit, prairielearn, json or summary "
        "(Markdown for $GITHUB_STEP_SUMMARY)",
    )
    s.add_argument("--out", help="write here (default: standard output)")
    s.add_argument("--seed", type=int, help="seed every random choice with this (default 1)")
    s.add_argument(
        "--withhold-hidden", action="store_true", help="do not show students the feedback of hidden checks"
    )
    s.add_argument(
        "--hidden-visibility",
        default="after_published",
        help="Gradescope visibility of hidden checks (default after_published)",
    )
    i18n.language_arg(s)
    s = sub.add_parser("images", help=cmd_images.__doc__)
    s.add_argument("--force", action="store_true", help="rebuild even what is up to date")
    s.add_argument(
        "--common",
        action="store_true",
        help="only the images every lab uses (not the browser image lab 7 uses)",
    )
    s = sub.add_parser("up", help=cmd_up.__doc__)
    code_args(s)
    s.add_argument("--project", default=DEV_PROJECT)
    s.add_argument("--profile", help="impair the link with this profile instead of the lab's")
    s.add_argument("--seed", type=int, default=runner.DEFAULT_SEED)
    impair_commands(sub.add_parser("impair", help=cmd_impair.__doc__))
    for name, fn in (("shell", cmd_shell), ("watch", cmd_watch), ("down", cmd_down)):
        s = sub.add_parser(name, help=fn.__doc__)
        s.add_argument("--project", default=DEV_PROJECT)
        if name == "shell":
            s.add_argument("service", choices=compose.SERVICES)
            s.add_argument("-c", help="run this command instead of an interactive shell")
        if name == "watch":
            s.add_argument("-c", dest="count", type=int, help="stop after this many packets")
            s.add_argument("filter", nargs="*", help="a tcpdump filter, e.g. tcp port 5000")
    s = sub.add_parser("clean", help=cmd_clean.__doc__)
    s.add_argument("--images", action="store_true", help="remove socklab's images too")
    s.add_argument("--run", help="remove only this run's resources (its Compose project name)")
    s = sub.add_parser("labs", help=cmd_labs.__doc__)
    s.add_argument("--json", action="store_true", help="print the labs as JSON (errors included)")
    s = sub.add_parser("demo", help=cmd_demo.__doc__)
    s.add_argument("--losses", default="0,1,5,10,20,30", help="loss rates in %% (default 0,1,5,10,20,30)")
    s.add_argument(
        "--delay-ms",
        type=float,
        default=10.0,
        help="delay each way (default 10 ms: with a LAN's RTT, TCP recovers too fast to see)",
    )
    s.add_argument("--seed", type=int, default=runner.DEFAULT_SEED)
    s.add_argument("--size", type=int, default=demo.SIZE, help="bytes per protocol per rate (1 MiB)")
    s.add_argument(
        "--tcp-timeout",
        type=float,
        default=60.0,
        help="give up on a TCP transfer after this many seconds (default 60)",
    )
    s.add_argument("--out", default="runs/demo", help="where the CSV and the PNG go (default runs/demo)")
    s.add_argument(
        "--cc",
        default=congestion.DEFAULT,
        help="TCP congestion control(s), e.g. reno, cubic, bbr or reno,bbr to compare "
        f"(default {congestion.DEFAULT}: loss-based, as the Mathis model assumes)",
    )
    s.add_argument(
        "--cc-list",
        action="store_true",
        help="only say which congestion controls the containers' kernel offers",
    )
    s.add_argument(
        "--loss-on",
        choices=list(demo.LOSS_ON),
        default=demo.DEFAULT_LOSS_ON,
        help="drop packets on the data's way only (client to server: the Mathis model's "
        "loss; the default) or both ways (ACKs too)",
    )
    s = sub.add_parser("doctor", help=cmd_doctor.__doc__)
    s.add_argument(
        "--json",
        action="store_true",
        help="print the findings and the facts behind them as JSON, for scripts",
    )
    i18n.language_arg(s)
    classroom.add_parsers(sub)
    return p


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "run": cmd_run,
    "grade": cmd_grade,
    "images": cmd_images,
    "up": cmd_up,
    "shell": cmd_shell,
    "watch": cmd_watch,
    "down": cmd_down,
    "clean": cmd_clean,
    "labs": cmd_labs,
    "impair": cmd_impair,
    "doctor": cmd_doctor,
    "demo": cmd_demo,
    **classroom.COMMANDS,
}


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """The arguments (options go wherever the user typed them: see ``impair_commands``)."""
    return parser().parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if getattr(args, "lang", None) and args.command != "export-student":  # its --lang is the template's
        i18n.set_language(args.lang)
    try:
        return COMMANDS[args.command](args)
    except SocklabError as exc:
        message = str(exc)
        if isinstance(exc, PlatformError) and "socklab doctor" not in message:
            message += "\n" + _(
                "(`socklab doctor` or `make doctor` says what this machine lacks and how to fix it)"
            )
        print(f"socklab: error: {visible(message)}", file=sys.stderr)  # it may name a student's file
        return exc.exit_code
    except KeyboardInterrupt:
        print("socklab: " + _("interrupted; cleaned up"), file=sys.stderr)
        return 130


def _terminated(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM (a CI timeout, `kill`) cleans up as Ctrl-C does


def run() -> None:
    """The console-script entry point."""
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    signal.signal(signal.SIGTERM, _terminated)
    sys.exit(main())


if __name__ == "__main__":
    run()
