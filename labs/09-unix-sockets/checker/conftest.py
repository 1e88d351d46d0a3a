"""Lab 9's fixtures: the two servers, and waiting until their socket files serve.

A Unix socket is a file, not a port, so ``lab.toml`` names no port to wait for: the
checker polls until a client can connect to the socket file (``Servers.wait``).
The programs are named for their socket type: ``stream`` and ``dgram``.
"""

from __future__ import annotations

import time

import pytest
import unix_probe

from socklab.checking import expect
from socklab.checking.programs import Programs
from socklab.i18n import _
from socklab.lab import Lab

READY_WITHIN = 15.0  # seconds for a server to start serving on its socket file (generous: a busy machine)


class Servers:
    """The student's servers in the server container, each serving on its socket file."""

    def __init__(self, programs: Programs, lab: Lab, box: str) -> None:
        self.programs = programs
        self.lab = lab
        self.box = box
        self.ready: dict[str, int] = {}  # program -> the start that was seen serving
        self.never: dict[str, int] = {}  # program -> the start that did not serve in time

    def path(self, name: str) -> str:
        return self.lab.programs[name].argv[-1]

    def file(self, name: str) -> str:
        return self.lab.programs[name].file

    def ensure(self, name: str) -> str:
        """The server running and serving (started or restarted if needed); its socket's path."""
        self.programs.ensure(name)
        if self.ready.get(name) != self.programs.starts[name]:
            # a start already given its full time gets one more look, not another wait
            late = self.never.get(name) == self.programs.starts[name]
            self.wait(name, _("{program} to serve on {path}").format(program=self.file(name),
                                                                     path=self.path(name)),
                      within=1.0 if late else READY_WITHIN)
        return self.path(name)

    def start(self, name: str, expected: str) -> str:
        """Start the server afresh and wait until it serves; ``expected`` says what should happen."""
        self.programs.start(name)
        self.wait(name, expected)
        return self.path(name)

    def wait(self, name: str, expected: str, within: float = READY_WITHIN, *,
             path: str | None = None) -> None:
        """Poll until a client connects (to ``path``, else the lab's own path); the plugin
        adds the program's output to a failure."""
        path = path or self.path(name)
        deadline = time.monotonic() + within
        while True:
            if not self.programs.alive(name):
                code = self.exit_code(name)
                expect.fail(expected, _("{program} exited (code {code}); {path}: {file}").format(
                    program=self.file(name), code=code, path=path,
                    file=unix_probe.describe(unix_probe.stat(self.box, path)[path])))
            seen = unix_probe.wait(self.box, path, name, timeout=1.0)
            if seen["connected"]:
                self.ready[name] = self.programs.starts[name]
                return
            if time.monotonic() > deadline:
                self.never[name] = self.programs.starts[name]
                expect.fail(expected, _("no {type} client could connect to {path} within {within:g} s "
                                        "({error}); {path}: {file}").format(
                    type=name, path=path, within=within, error=seen["error"],
                    file=unix_probe.describe(seen["file"])))

    def exit_code(self, name: str) -> int | str:
        proc = self.programs.running.get(name)
        return proc.returncode if proc is not None and proc.returncode is not None else _("unknown")

    def stop(self, name: str) -> None:
        self.programs.stop(name)
        self.ready.pop(name, None)


@pytest.fixture(scope="session")
def box(ctx) -> str:
    """The server container: both servers and every client of this lab run there."""
    return ctx.container("server")


@pytest.fixture(scope="session")
def servers(programs, lab, box) -> Servers:
    return Servers(programs, lab, box)
