"""Lab 6's helpers: seeded files on the server, and the checker's client in the client container.

The probe (``socklab/probes/file_transfer.py``, at /socklab/ in the containers) makes the
files as the student user in the server's root, transfers files with the student's
server from the client container, through the router, and hashes what arrived; these
helpers run it with ``docker exec`` and turn what it saw into expected-vs-observed failures.
"""

from __future__ import annotations

import json
import random
import subprocess
from typing import Any

import cases
import pytest

from socklab.checking import expect, observe
from socklab.checking.programs import STUDENT, run_exec
from socklab.errors import PlatformError
from socklab.i18n import _

SCRIPT = "file_transfer.py"
PORT = 6000
ROOT = "/scratch/files"
MIB = 1024 * 1024
SIZES = {"empty.bin": 0, "one.bin": 1, "one-mib.bin": MIB, "big.bin": 20 * MIB}
INNER = "sub/inner.bin"  # a file in a folder inside the root: GET sub/inner.bin is refused

def probe(container: str, *args: str, user: str = "0", timeout: float = 120.0) -> dict[str, Any]:
    """Run lab 6's probe in ``container``; a broken probe is a platform error, not the student's."""
    return observe.probe(container, *args, script=SCRIPT, user=user, timeout=timeout)


class Files:
    """The student's server with its root of seeded files, and the checker's client for it."""

    def __init__(self, ctx: Any, programs: Any, made: dict[str, dict[str, Any]]) -> None:
        self.ctx, self.programs, self.made = ctx, programs, made
        self.client, self.server = ctx.container("client"), ctx.container("server")

    def get(self, name: str, *extra: str) -> dict[str, Any]:
        return probe(self.client, "get", "--host", "server", "--port", str(PORT),
                     "--name", name, *extra)

    def put(self, name: str, size: int, seed: int, *extra: str) -> dict[str, Any]:
        return probe(self.client, "put", "--host", "server", "--port", str(PORT), "--name",
                     name, "--size", str(size), "--seed", str(seed), *extra)

    def lines(self, *texts: str) -> dict[str, Any]:
        args = ["lines", "--host", "server", "--port", str(PORT)]
        for text in texts:
            args += ["--line", text]
        return probe(self.client, *args)

    def session(self, steps: list[dict[str, Any]]) -> dict[str, Any]:
        """One connection, step by step (see the probe's ``session``): the replies as read."""
        return probe(self.client, "session", "--host", "server", "--port", str(PORT),
                     "--script", json.dumps(steps), timeout=120)

    def listing(self) -> dict[str, Any]:
        """What LIST must answer now: the root's regular files, not hidden, sorted."""
        return probe(self.server, "listing", "--root", ROOT, user="student")

    def on_server(self, path: str) -> dict[str, Any]:
        """Size and SHA-256 of a file in the server container, read as the student user."""
        return probe(self.server, "hash", "--path", path, user="student")

    def expect_get(self, name: str) -> dict[str, Any]:
        """GET ``name`` (one of the seeded files) and compare its size and SHA-256."""
        __tracebackhide__ = True
        want = self.made[name]
        seen = self.get(name)
        what = _("GET {name} ({size} bytes)").format(name=name, size=want["size"])
        if seen["status"] != f"200 OK {want['size']}":
            expect.fail(_("{what}: the status line '200 OK {size}'").format(what=what, size=want["size"]),
                        f"{status(seen['status'])}{problem(seen)}", self.server_state())
        if seen["received"] != want["size"] or seen["sha256"] != want["sha256"]:
            expect.fail(_("{what}: {size} bytes with SHA-256 {sha256}").format(
                            what=what, size=want["size"], sha256=want["sha256"]),
                        _("{size} bytes with SHA-256 {sha256}").format(size=seen["received"],
                                                                        sha256=seen["sha256"])
                        + problem(seen), self.server_state())
        answered_quit(seen, what)
        return seen

    def expect_put(self, name: str, size: int, seed: int) -> dict[str, Any]:
        """PUT ``size`` seeded bytes as ``name``; the server must store them, byte for byte."""
        __tracebackhide__ = True
        seen = self.put(name, size, seed)
        what = f"PUT {name} {size}"
        if (seen["status"] or "").split()[:1] != ["150"]:
            expect.fail(_("{what}: the reply '150 ready'").format(what=what), f"{status(seen['status'])}"
                        f"{problem(seen)}", self.server_state())
        if seen["final"] != f"226 stored {size}":
            expect.fail(_("{what}, then the {size} bytes: the reply '226 stored {size}'").format(
                            what=what, size=size),
                        _("{status} after {sent} bytes sent").format(status=status(seen["final"]),
                                                                     sent=seen["sent"]) + problem(seen),
                        self.server_state())
        stored = self.on_server(f"{ROOT}/{name}")
        if stored.get("sha256") != seen["sha256"]:
            expect.fail(_("{what}: {path} on the server, {size} bytes with SHA-256 {sha256}").format(
                            what=what, path=f"{ROOT}/{name}", size=size, sha256=seen["sha256"]),
                        _("no such file") if not stored["exists"] else
                        _("{size} bytes with SHA-256 {sha256}").format(size=stored["size"],
                                                                        sha256=stored["sha256"]))
        answered_quit(seen, what)
        return seen

    def memory(self) -> dict[str, tuple[str, int]]:
        """The peak resident memory (VmHWM, KiB) of each of the student's server processes."""
        return observe.student_memory(self.server)

    def memory_growth(self, before: dict[str, tuple[str, int]]) -> tuple[int, str]:
        """The largest rise in a server process's peak memory since ``before`` (KiB, which)."""
        return observe.memory_growth(self.server, before)

    def server_state(self, wait: float = 0.0) -> str:
        """Evidence: whether the server process died."""
        proc = self.programs.running.get("server")
        if proc is None:
            return ""
        try:
            code = proc.wait(timeout=wait) if wait else proc.poll()
        except subprocess.TimeoutExpired:
            code = None
        if code is None:
            return ""
        exited = _("the server process exited with code {code}").format(code=code)
        return f"{exited}\n{self.programs.tail('server')}"

    def slow_get(self, name: str, stall_at: list[int]) -> dict[str, Any]:
        """GET with a slow reader: at each stall point, the server is paused and resumed."""
        args = ["get", "--host", "server", "--port", str(PORT), "--name", name]
        for point in stall_at:
            args += ["--stall-at", str(point)]
        proc = subprocess.Popen(observe.probe_exec(self.client, SCRIPT, args, detach_in=True),
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        assert proc.stdin is not None and proc.stdout is not None
        try:
            while True:
                line = proc.stdout.readline()
                if not line:
                    raise PlatformError(_("the probe's slow reader failed: {error}").format(
                        error=proc.stderr.read() if proc.stderr else ""))
                seen = json.loads(line)
                if "stalled" not in seen:
                    return seen
                observe.wait_stuck(self.server, PORT, seen["port"])
                observe.pause_and_resume(self.server)
                proc.stdin.write("go\n")
                proc.stdin.flush()
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()


def status(line: str | None) -> str:
    return _("no reply (the connection ended)") if line is None else _("the reply {status}").format(
        status=repr(line))


def problem(seen: dict[str, Any]) -> str:
    return f" ({cases.said(seen['error'])})" if seen.get("error") else ""


def answered_quit(seen: dict[str, Any], what: str) -> None:
    __tracebackhide__ = True
    if seen["quit"] != "221 bye":
        expect.fail(_("after {what}: QUIT answered '221 bye'").format(what=what),
                    _("{status} (is the reply's size right, or the body cut short?)").format(
                        status=status(seen["quit"])))


def refused(seen: dict[str, Any], what: str, evidence: str = "") -> None:
    """The command got '553 refused' and the session went on (QUIT answered)."""
    __tracebackhide__ = True
    if seen["status"] != "553 refused":
        expect.fail(_("{what}: the reply '553 refused'").format(what=what), status(seen["status"])
                    + problem(seen), evidence)
    answered_quit(seen, what)


@pytest.fixture(scope="session")
def layout(ctx: Any) -> dict[str, Any]:
    """The seeded extras around the root: a sibling folder sharing the root's prefix, a
    hidden file, files with multi-byte UTF-8 names, files at buffer-boundary sizes."""
    rng = random.Random(f"lab6-layout-{ctx.seed}")
    beside_dir = cases.sibling(rng, ROOT)
    return {"beside_dir": beside_dir,
            "beside": f"{beside_dir.rpartition('/')[2]}/secret-{rng.randrange(10 ** 6):06d}.txt",
            "utf8": [cases.utf8_name(rng), cases.utf8_name(rng, ".bin")],
            # a capital first: sorted by bytes it comes before every lower-case name
            "capital": rng.choice(("README", "Makefile", "Notes", "Zebra")) + ".txt",
            "sizes": cases.sizes(rng, 4),
            # plain names all the same: a space in it, '..' inside it
            "spaced": f"{rng.choice(('my notes', 'draft 2', 'a b'))} {rng.randrange(100):02d}.txt",
            "dotted": rng.choice(("notes..txt", "v1..2.bin", "...", "a..b", "end..")),
            }


@pytest.fixture(scope="session")
def made(ctx: Any, layout: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The seeded files in the server's root (and some just outside it), written as the
    student; keyed by their path relative to the root ('../' for those outside)."""
    server = ctx.container("server")
    out = run_exec(server, ["mkdir", "-p", ROOT], user=STUDENT, timeout=20)
    if out.returncode != 0:
        raise PlatformError(_("mkdir {root} in the server failed: {error}").format(
            root=ROOT, error=out.stderr.strip()))
    files = {**SIZES, INNER: 3000, ".hidden.txt": 10, layout["utf8"][0]: 1500,
             layout["utf8"][1]: 4096 + 3, layout["capital"]: 50,
             layout["spaced"]: 60, layout["dotted"]: 70,
             **{f"size-{n}.bin": n for n in layout["sizes"]}}
    parent = ROOT.rpartition("/")[0]
    specs = [f"{ROOT}/{name}:{size}:{ctx.seed * 100 + i}" for i, (name, size) in
             enumerate(files.items())]
    specs += [f"{parent}/outside.txt:100:{ctx.seed}", f"{parent}/{layout['beside']}:200:{ctx.seed + 1}"]
    made = probe(server, "make", *(arg for spec in specs for arg in ("--file", spec)),
                 user="student")
    return {path.removeprefix(ROOT + "/") if path.startswith(ROOT + "/") else
            "../" + path.removeprefix(parent + "/"): info for path, info in made.items()}


@pytest.fixture
def files(ctx: Any, programs: Any, made: dict[str, dict[str, Any]]) -> Files:
    """The student's server running (restarted if it died) over its root of seeded files."""
    programs.ensure("server")
    return Files(ctx, programs, made)
