"""The lab model: a lab folder and its ``lab.toml``, loaded and checked. No Docker here.

A lab folder ``labs/NN-slug/`` holds ``README.md`` (its contract: numbered rules,
``**R1.** ...``), ``lab.toml``, ``starter/``, ``solution/`` and ``solutions/NAME/``
(other correct designs), ``checker/`` (pytest; each check cites the rules it enforces
with ``@pytest.mark.rules("R1")``) and ``bad/NAME/`` known-wrong submissions, each with
``defect.toml`` saying what is wrong, the rule it breaks and which check must catch it.
"""

from __future__ import annotations

import ast
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10 (Ubuntu 22.04): the backport, a dependency there
    import tomli as tomllib  # type: ignore[no-redef]

from socklab.errors import LabError
from socklab.i18n import _
from socklab.impair import profiles

LABS_ROOT = Path(__file__).resolve().parent.parent / "labs"
HOSTS = ("client", "server")
HOST_IMAGES = ("host", "browser")  # images a lab host may run (socklab/images.py builds them)
FOLDER = re.compile(r"^(\d\d)-([a-z0-9-]+)$")
RULE = re.compile(r"^\s*(?:[-*]\s+)?\*\*(R\d+)\.\*\*\s*(.+?)\s*$")  # **R3.** The server ...


@dataclass(frozen=True)
class Program:
    """A program of the code under test, and how it runs."""

    name: str
    host: str  # "client" or "server"
    argv: tuple[str, ...]  # run from /lab/code; argv[1] is usually the file
    file: str  # the file the code under test must contain
    listen: int | None = None  # a TCP port: the program is ready when it listens there
    listen_udp: int | None = None  # a UDP port, likewise


@dataclass(frozen=True)
class BadSubmission:
    """A known-wrong submission: files laid over the solution, and the check meant to fail."""

    name: str
    path: Path
    defect: str
    caught_by: str
    rule: str = ""  # the README rule it breaks, e.g. "R3"


@dataclass(frozen=True)
class Check:
    """A check as its source declares it: its points and the README rules it enforces."""

    name: str  # the test function, e.g. "test_echo_one_byte"
    points: float
    rules: tuple[str, ...]
    hidden: bool  # from hidden/: grading only


@dataclass(frozen=True)
class Lab:
    number: int
    slug: str
    title: str
    path: Path
    points: int  # the public checks' total
    hidden_points: int = 0  # the instructor-only checks' total (labs/NN-slug/hidden/)
    timeout: float = 120.0  # seconds for the whole checker
    check_timeout: float = 30.0  # seconds for one check
    profile: str = "clean"
    programs: dict[str, Program] = field(default_factory=dict)
    images: dict[str, str] = field(default_factory=dict)  # host -> image, where not "host"

    @property
    def name(self) -> str:
        return f"{self.number:02d}-{self.slug}"

    @property
    def checker(self) -> Path:
        return self.path / "checker"

    @property
    def hidden(self) -> Path:
        """Instructor-only checks: run in grading, never shipped to students."""
        return self.path / "hidden"

    @property
    def graded_points(self) -> int:
        """What ``socklab grade`` grades here: the hidden checks count where this copy has
        them (a student's repository does not)."""
        return self.points + (self.hidden_points if self.hidden.is_dir() else 0)

    @property
    def solution(self) -> Path:
        return self.path / "solution"

    @property
    def starter(self) -> Path:
        return self.path / "starter"

    @property
    def readme(self) -> Path:
        return self.path / "README.md"

    @property
    def rules(self) -> dict[str, str]:
        """The README's numbered rules, ``{"R1": "The server listens ..."}``."""
        return rules_in(self.readme.read_text(encoding="utf-8")) if self.readme.is_file() else {}

    def solutions(self) -> list[Path]:
        """Every correct design: the reference ``solution/`` and each of ``solutions/NAME/``."""
        others = sorted(p for p in (self.path / "solutions").glob("*") if p.is_dir())
        return [self.solution, *others]

    def checks(self) -> list[Check]:
        """The checks of checker/ and hidden/, read from their source (nothing is imported)."""
        return [
            check
            for folder in (self.checker, self.hidden)
            for path in sorted(folder.glob("test_*.py"))
            for check in _declared(path)
        ]

    def checks_citing(self, rule: str) -> list[str]:
        return [check.name for check in self.checks() if rule in check.rules]

    def default_code(self) -> Path:
        """The solution where there is one, else the starter."""
        return self.solution if self.solution.is_dir() else self.starter

    def bad_submissions(self) -> list[BadSubmission]:
        return [_load_bad(path) for path in sorted((self.path / "bad").glob("*")) if path.is_dir()]

    def bad(self, name: str) -> BadSubmission:
        for bad in self.bad_submissions():
            if bad.name == name:
                return bad
        known = ", ".join(b.name for b in self.bad_submissions()) or "none"
        raise LabError(f"{self.name} has no bad submission {name!r} (known: {known})")

    def missing_files(self, code: Path) -> list[str]:
        """The programs' files that the code under test lacks."""
        return [p.file for p in self.programs.values() if not (code / p.file).is_file()]


def _where(path: Path) -> str:
    try:
        return str(path.relative_to(LABS_ROOT.parent))
    except ValueError:
        return str(path)


def _get(
    table: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str, default: Any = ...
) -> Any:
    if key not in table:
        if default is ...:
            raise LabError(f"{where} is missing {key!r}")
        return default
    value = table[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise LabError(f"{where} {key} must be {names}, not {type(value).__name__} {value!r}")
    return value


def _known(table: dict[str, Any], keys: tuple[str, ...], where: str) -> None:
    """A misspelt key is a mistake, not something to ignore."""
    for key in table:
        if key not in keys:
            raise LabError(f"{where} has an unknown key {key!r} (known: {', '.join(keys)})")


def _port(table: dict[str, Any], key: str, where: str) -> int | None:
    port = _get(table, key, int, where, None)
    if port is not None and not 1 <= port <= 65535:
        raise LabError(f"{where} {key} must be a port between 1 and 65535, not {port}")
    return port


def _load_program(name: str, table: dict[str, Any], where: str) -> Program:
    _known(table, ("host", "argv", "file", "listen", "listen_udp"), where)
    host = _get(table, "host", str, where)
    if host not in HOSTS:
        raise LabError(f"{where} host must be one of {', '.join(HOSTS)}, not {host!r}")
    argv = _get(table, "argv", list, where)
    if not argv or not all(isinstance(a, str) for a in argv):
        raise LabError(f"{where} argv must be a non-empty list of strings, not {argv!r}")
    file = _get(table, "file", str, where, argv[1] if len(argv) > 1 else argv[0])
    if Path(file).is_absolute() or ".." in Path(file).parts:
        raise LabError(f"{where} file must be a path inside the code folder, not {file!r}")
    return Program(
        name, host, tuple(argv), file, _port(table, "listen", where), _port(table, "listen_udp", where)
    )


def load(path: Path) -> Lab:
    """Load ``path/lab.toml``; a LabError names the file and key of any mistake."""
    path = Path(path).resolve()
    meta = path / "lab.toml"
    where = _where(meta)
    match = FOLDER.match(path.name)
    if not match:
        raise LabError(f"{_where(path)}: a lab folder is named NN-slug, like 01-tcp-echo")
    try:
        data = tomllib.loads(meta.read_text())
    except FileNotFoundError:
        raise LabError(f"{where}: no such file") from None
    except tomllib.TOMLDecodeError as exc:
        raise LabError(f"{where}: {exc}") from None
    lab = _get(data, "lab", dict, f"{where}:")
    lw = f"{where}: [lab]"
    _known(data, ("lab", "programs", "hosts"), f"{where}:")
    _known(lab, ("title", "points", "hidden_points", "timeout", "check_timeout", "profile"), lw)
    timeout = float(_get(lab, "timeout", (int, float), lw, 120.0))
    check_timeout = float(_get(lab, "check_timeout", (int, float), lw, 30.0))
    for key, value in (("timeout", timeout), ("check_timeout", check_timeout)):
        if value <= 0:
            raise LabError(f"{lw} {key} must be a positive number of seconds, not {value}")
    points = _get(lab, "points", int, lw)
    if points <= 0:
        raise LabError(f"{lw} points must be positive, not {points}")
    hidden_points = _get(lab, "hidden_points", int, lw, 0)
    if hidden_points < 0:
        raise LabError(f"{lw} hidden_points must be 0 or more, not {hidden_points}")
    programs = {
        name: _load_program(name, table, f"{where}: [programs.{name}]")
        for name, table in _get(data, "programs", dict, f"{where}:", {}).items()
    }
    host_images = {
        host: _load_host(host, table, f"{where}: [hosts.{host}]")
        for host, table in _get(data, "hosts", dict, f"{where}:", {}).items()
    }
    profile = _get(lab, "profile", str, lw, "clean")
    try:
        known_profile(profile)
    except LabError as exc:
        raise LabError(f"{lw} profile: {exc}") from None
    return Lab(
        number=int(match.group(1)),
        slug=match.group(2),
        title=_get(lab, "title", str, lw),
        path=path,
        points=points,
        hidden_points=hidden_points,
        timeout=timeout,
        check_timeout=check_timeout,
        profile=profile,
        programs=programs,
        images={h: i for h, i in host_images.items() if i != "host"},
    )


def _load_host(host: str, table: Any, where: str) -> str:
    """A ``[hosts.NAME]`` table: which image the host runs."""
    if host not in HOSTS:
        raise LabError(f"{where}: a host is one of {', '.join(HOSTS)}, not {host!r}")
    if not isinstance(table, dict):
        raise LabError(f'{where} must be a table, like image = "browser"')
    _known(table, ("image",), where)
    image = _get(table, "image", str, where, "host")
    if image not in HOST_IMAGES:
        raise LabError(f"{where} image must be one of {', '.join(HOST_IMAGES)}, not {image!r}")
    return image


def known_profile(name: str) -> str:
    """``name`` if socklab/impair/profiles.toml has it, else a LabError that says so."""
    try:
        profiles.get(name)  # the engine's own loader: one source of truth
    except ValueError as exc:
        raise LabError(str(exc)) from None
    return name


def _load_bad(path: Path) -> BadSubmission:
    meta = path / "defect.toml"
    where = f"{_where(meta)}:"
    try:
        data = tomllib.loads(meta.read_text())
    except (FileNotFoundError, tomllib.TOMLDecodeError) as exc:
        raise LabError(f"{where} {exc}") from None
    return BadSubmission(
        path.name,
        path,
        _get(data, "defect", str, where),
        _get(data, "caught_by", str, where),
        _get(data, "rule", str, where, ""),
    )


def _declared(path: Path) -> list[Check]:
    """The checks a test file declares, with their ``points`` and ``rules`` markers."""
    found = []
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if not (isinstance(node, ast.FunctionDef) and node.name.startswith("test_")):
            continue
        marks = {
            ast.unparse(d.func).removeprefix("pytest.mark."): d.args
            for d in node.decorator_list
            if isinstance(d, ast.Call)
        }
        points = [
            a.value
            for a in marks.get("points", [])
            if isinstance(a, ast.Constant) and isinstance(a.value, int | float)
        ]
        rules = [a.value for a in marks.get("rules", []) if isinstance(a, ast.Constant)]
        found.append(
            Check(
                node.name,
                float(points[0]) if points else 0.0,
                tuple(map(str, rules)),
                path.parent.name == "hidden",
            )
        )
    return found


def rules_in(markdown: str) -> dict[str, str]:
    """The numbered rules of a README: each a line ``**R<n>.** text`` (a list item or not).

    A rule's text runs on over the following lines until a blank line, a heading, a list
    item or the next rule.
    """
    found: dict[str, str] = {}
    current = None
    for line in markdown.splitlines():
        if match := RULE.match(line):
            current = match.group(1)
            if current in found:
                raise LabError(f"rule {current} is stated twice")
            found[current] = match.group(2)
        elif current and line.strip() and not re.match(r"\s*(#|[-*|]\s|\d+\.\s)", line):
            found[current] += " " + line.strip()
        else:
            current = None
    return found


def folders(root: Path = LABS_ROOT) -> list[Path]:
    """The lab folders, in order, whether or not they load."""
    return [p for p in sorted(root.glob("[0-9][0-9]-*")) if p.is_dir()]


def all_labs(root: Path = LABS_ROOT) -> list[Lab]:
    return [load(p) for p in folders(root)]


def find(ref: str, root: Path = LABS_ROOT) -> Lab:
    """A lab by number (``1``, ``01``) or folder name (``01-tcp-echo``)."""
    for path in sorted(root.glob("[0-9][0-9]-*")):
        if ref == path.name or (ref.isdigit() and int(ref) == int(path.name[:2])):
            return load(path)
    known = ", ".join(path.name for path in sorted(root.glob("[0-9][0-9]-*")))
    raise LabError(
        _("no lab {ref} in {folder} (labs: {labs})").format(ref=repr(ref), folder=_where(root), labs=known)
    )


def lay_over(base: Path, overlay: Path) -> Path:
    """A temporary folder with ``base``'s files and ``overlay``'s on top, readable by all.

    A bad submission holds only the files it gets wrong; the rest comes from the solution.
    The caller removes the folder.
    """
    out = Path(tempfile.mkdtemp(prefix="socklab-code-"))
    shutil.copytree(base, out, dirs_exist_ok=True)
    shutil.copytree(overlay, out, dirs_exist_ok=True, ignore=shutil.ignore_patterns("defect.toml"))
    for path in [out, *out.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return out
