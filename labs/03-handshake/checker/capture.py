"""Captures on the router, and the ladders drawn from them.

``RouterCapture`` runs tcpdump in the router container while a ``with`` block runs and
reads the capture back (``pcap.py``); ``conversation.py`` pairs the segments the router
received with those it sent on; ``ladder.py`` draws them. Every ladder drawn in a run is
also written to the run's artifacts as ``ladder.txt`` and ``ladder.svg``.
"""

from __future__ import annotations

import re
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import conversation
import ladder
import pcap

from socklab.checking import expect
from socklab.checking.pcap import save
from socklab.checking.programs import Finished
from socklab.errors import PlatformError
from socklab.i18n import _

BOUND = 8.0  # seconds for a whole exchange; a correct one takes well under one
STATS = re.compile(r"(\d+) packets (captured|received by filter|dropped by kernel)")
QUIET = 0.3  # seconds without a new packet: the conversation is over, the capture may stop
# Bytes of capture kept: a right exchange takes well under 1 MiB (at most 256 bytes and a
# 16-byte record header a packet). Past it the capture is read and dropped, so that tcpdump
# never blocks, and the packets after it are a flood's: what was kept is judged (pcap.read
# keeps the packets before a cut record).
MOST = 16 << 20
SHOWN = 60  # lines of a ladder in a check's message (a flood draws thousands): all in ladder.txt


class RouterCapture:
    """tcpdump on the router (both interfaces) for TCP port ``port``, while a block runs.

    The checks pair what the router received with what it sent on, so it captures both
    interfaces; the files saved hold one interface each (``pcap.save``), each packet once.
    """

    def __init__(self, ctx: Any, name: str, port: int) -> None:
        self.router = ctx.container("router")
        self.client_ip = ctx.addresses["client"]
        self.path = Path(ctx.artifacts) / f"{name}.pcap"
        self.port = port
        self.data = bytearray()
        self.last = time.monotonic()

    def __enter__(self) -> RouterCapture:
        # A small snap length: headers and the start of the payload are all a ladder needs,
        # and the kernel's capture ring holds a few slots of the default 256 KiB only.
        # -y LINUX_SLL2: each packet names its interface, so the files saved hold one each.
        script = ('echo $$ >&2; exec tcpdump -i any -y LINUX_SLL2 -n -s 256 -B 4096 -U '  # not shown
                  '--immediate-mode -Z tcpdump -w - "$@"')
        self.proc = subprocess.Popen(
            ["docker", "exec", self.router, "sh", "-c", script, "sh", "tcp", "port", str(self.port)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert self.proc.stdout and self.proc.stderr
        self.pid = self.proc.stderr.readline().decode().strip()
        said = []
        while line := self.proc.stderr.readline().decode():
            said.append(line)
            if "listening on" in line:
                break
        else:
            raise PlatformError(_("tcpdump did not start on the router: {output}").format(
                output="".join(said).strip()))
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        return self

    def _read(self) -> None:
        while chunk := self.proc.stdout.read1(65536):  # type: ignore[union-attr]
            if len(self.data) < MOST:
                self.data += chunk
            self.last = time.monotonic()

    def __exit__(self, failed: type[BaseException] | None, *_: object) -> None:
        deadline = time.monotonic() + 3
        while time.monotonic() - self.last < QUIET and time.monotonic() < deadline:
            time.sleep(0.05)  # the last ACKs are still crossing the router
        # tcpdump runs as its own user: the router's root has no CAP_KILL to signal it
        subprocess.run(["docker", "exec", "-u", "tcpdump", self.router, "kill", "-INT", self.pid],
                       capture_output=True, check=False)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise PlatformError(_("tcpdump on the router did not stop")) from None
        self.reader.join(timeout=5)
        save(bytes(self.data), self.client_ip, self.path)
        if failed is None:  # else the block's own exception is the one to report
            self.check_complete(self.proc.stderr.read().decode(errors="replace"))  # type: ignore[union-attr]

    def check_complete(self, stats: str) -> None:
        """A capture that missed packets cannot judge anything: that is the platform's failure.

        tcpdump ends with "N packets captured", "M packets received by filter" and "K
        packets dropped by kernel"; all it was handed must have been written.
        """
        counts = dict((m.group(2), int(m.group(1))) for m in STATS.finditer(stats))
        if len(counts) == 3 and (counts["dropped by kernel"]
                                 or counts["captured"] < counts["received by filter"]):
            raise PlatformError(_("the capture on the router missed packets: {counts}").format(counts=counts))

    def connections(self) -> list[conversation.Connection]:
        try:
            return conversation.connections(pcap.read(bytes(self.data)), self.client_ip)
        except pcap.PcapError as exc:
            raise PlatformError(_("the capture {path} could not be read: {error}").format(
                path=self.path, error=exc)) from None


class Ladders:
    """Every connection drawn in this run, kept in ``ladder.txt`` and ``ladder.svg``."""

    def __init__(self, artifacts: Path) -> None:
        self.artifacts = artifacts
        self.drawn: list[tuple[str, conversation.Connection]] = []

    def draw(self, title: str, conns: list[conversation.Connection]) -> str:
        texts = [ladder.text(conn, _("{title} (connection {n} of {total})").format(
                                 title=title, n=i + 1, total=len(conns))
                             if len(conns) > 1 else title) for i, conn in enumerate(conns)]
        self.drawn += [(title, conn) for conn in conns]
        with (self.artifacts / "ladder.txt").open("a") as out:
            out.write("\n\n".join(texts or [f"{title}\n" + _("(no connection was captured)")]) + "\n\n")
        (self.artifacts / "ladder.svg").write_text(ladder.svg(self.drawn))
        return "\n\n".join(map(shown, texts)) + "\n" + ladder.legend(conns) if texts else ""


def shown(text: str) -> str:
    """A ladder cut to SHOWN lines for a message: its start and its end."""
    lines = text.splitlines()
    if len(lines) <= SHOWN:
        return text
    tail = 10
    more = _("   ... {count} more lines: the whole ladder is in the run's ladder.txt ...").format(
        count=len(lines) - SHOWN)
    return "\n".join([*lines[:SHOWN - tail], more, *lines[-tail:]])


@dataclass
class Exchange:
    """The student's client and server talking through the router, and what it captured."""

    run: Finished
    conns: list[conversation.Connection]
    ladder: str  # the capture drawn as text

    def connection(self) -> conversation.Connection:
        """The (first) captured connection; none is the student's failure."""
        __tracebackhide__ = True
        if not self.conns:
            expect.fail(_("a TCP connection from the client to the server, through the router"),
                        _("no TCP segment crossed the router"), client_output(self.run))
        return self.conns[0]

    def evidence(self) -> str:
        return _("the capture as a ladder diagram:") + f"\n{self.ladder}\n{client_output(self.run)}"


def client_output(run: Finished) -> str:
    """What the student's client printed, and how it ended, as evidence."""
    status = (_("stopped after {seconds:.1f} s").format(seconds=run.elapsed) if run.timed_out
              else _("exit {status}").format(status=run.returncode))
    label = _("the client ({status}) printed").format(status=status)
    return expect.output(label, run.stdout + run.stderr)  # each line marked as the client's
