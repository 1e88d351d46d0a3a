"""Lab 8's transfers: run one file transfer between the student's sender and receiver
through the impaired router, capture it, and judge the file that arrived.

A transfer: the checker writes a seeded random file in the client's /scratch (as the
student), starts the receiver in the server, sets the link, runs the sender to its end,
waits for the receiver to exit, and reads the receiver's file back (as the student).
"""

from __future__ import annotations

import functools
import hashlib
import random
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import rdt_wire

from socklab import impairing
from socklab.checking import expect
from socklab.checking.pcap import save
from socklab.checking.programs import STUDENT, Finished, ProgramError, docker_exec, refused
from socklab.errors import PlatformError
from socklab.i18n import N_, _, ngettext

PORT = 5000
RECEIVER_EXIT = 8.0  # seconds the receiver may take to exit after the sender (it lingers 1 s)
QUIET = 0.3  # seconds for the last packets to cross the router before the capture stops
# Packets a capture keeps (about 1.1 KB each: well inside the router's 64 MiB /tmp). A
# right transfer of these files takes a few hundred; a flood's capture stops here.
CAPTURED = 20_000
# What the router did to packets, in the evidence (Transfer.link), by the Counter's keys
FATES = {"lost": N_("{count} lost"), "copied": N_("{count} copied"),
         "sent ahead": N_("{count} sent ahead"), "damaged": N_("{count} damaged")}
# Sends the datagrams given in hex on stdin to HOST PORT from one socket, then prints in
# hex what came back within half a second (in the client container, as the student).
CRAFT = r"""# not shown: the checker's own script (a Python comment line, where an empty one was)
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for packet in sys.stdin.read().split(","):
    s.sendto(bytes.fromhex(packet), (sys.argv[1], int(sys.argv[2])))
s.settimeout(0.5)
replies = []
try:
    while True:
        replies.append(s.recv(65535).hex())
except (TimeoutError, ConnectionRefusedError):
    pass
print(" ".join(replies))
"""


def exec_bytes(container: str, argv: list[str], data: bytes = b"",
               timeout: float = 60) -> subprocess.CompletedProcess[bytes]:
    """A ``docker exec`` as the student, bytes in and out."""
    for attempt in range(8):
        out = subprocess.run(docker_exec(container, argv, user=STUDENT, detach_in=bool(data)),
                             input=data or None, capture_output=True, timeout=timeout, check=False)
        if not refused(out.returncode, out.stderr.decode(errors="replace")):
            return out
        time.sleep(0.1 * (attempt + 1))
    raise ProgramError(_("{container} had no process to spare for the checker (its pids limit)").format(
        container=container))


class RouterCapture:
    """tcpdump on the router (both interfaces) for UDP port ``PORT``, while a block runs.

    The checks compare what the router received with what it sent on, so it captures
    both interfaces; the files saved hold one interface each (``pcap.save``).

    It writes to the router's /tmp (a slow reader on a pipe would make the kernel drop
    packets) with a large buffer, and a capture that missed packets is the platform's
    failure: the checks below judge every packet, and a missing ACK would look like a
    packet sent too early.
    """

    def __init__(self, ctx: Any, name: str, quiet: float = QUIET) -> None:
        self.quiet = quiet
        self.router = ctx.container("router")
        self.path = Path(ctx.artifacts) / f"{name}.pcap"
        self.client = ctx.addresses["client"]
        self.inside = f"/tmp/{name}.pcap"
        self.flooded: str | None = None  # set by datagrams(): the students' flood, in words

    def __enter__(self) -> RouterCapture:
        # -Z root: with -w, tcpdump would chown the file to its own user, and the router's
        # root may not chown. With -w it only copies packets out; it dissects none.
        # -s 2048: a whole packet at the links' MTU of 1500. Without it each slot of the
        # kernel's ring is sized for 256 KiB packets, so the 16 MiB ring held only a few
        # dozen packets, and a capture under load lost some ("dropped by kernel").
        # -y LINUX_SLL2: each packet names its interface, so the files saved hold one each.
        script = ('echo $$ >&2; exec tcpdump -i any -y LINUX_SLL2 -n -s 2048 -U '  # not shown
                  '--immediate-mode -B 16384 -Z root "$@"')
        self.proc = subprocess.Popen(
            ["docker", "exec", self.router, "sh", "-c", script, "sh", "-c", str(CAPTURED),
             "-w", self.inside, "udp", "port", str(PORT), "or", "icmp"], stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE)
        assert self.proc.stderr
        self.pid = self.proc.stderr.readline().decode().strip()
        said = []
        while line := self.proc.stderr.readline().decode():
            said.append(line)
            if "listening on" in line:
                break
        else:
            raise PlatformError(_("tcpdump did not start on the router: {said}").format(
                said="".join(said).strip()))
        return self

    def __exit__(self, *exc: object) -> None:
        time.sleep(self.quiet)  # the last packets are crossing the router
        subprocess.run(["docker", "exec", self.router, "kill", "-INT", self.pid],
                       capture_output=True, check=False)
        try:
            _, err = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise PlatformError(_("tcpdump on the router did not stop")) from None
        self.summary = err.decode(errors="replace")
        out = subprocess.run(["docker", "exec", self.router, "sh", "-c",
                              'cat "$1" && rm "$1"', "sh", self.inside],
                             capture_output=True, timeout=60, check=False)
        if out.returncode != 0:
            raise PlatformError(_("reading the capture on the router failed: {error}").format(
                error=out.stderr.decode()))
        self.data = out.stdout
        save(self.data, self.client, self.path)

    def datagrams(self, events: list[dict[str, Any]], client: str) -> list[rdt_wire.Datagram]:
        """The capture's datagrams, checked against the engine's log: none may be missing,
        unless the students' programs flooded the link (``self.flooded`` says so)."""
        try:
            found = rdt_wire.read(self.data)
        except rdt_wire.PcapError as exc:
            raise PlatformError(_("the capture {path} could not be read: {error}").format(
                path=self.path, error=exc)) from None
        self.flooded = impairing.flood(events)
        if self.flooded or len(found) >= CAPTURED:  # packets are missing: Transfer.wire() fails
            self.flooded = self.flooded or _("more than {count} datagrams in one transfer").format(
                count=f"{CAPTURED:,}")
            return found
        sent = sum(1 for d in found if not d.outgoing and d.src == client)
        got = sum(1 for d in found if d.outgoing and d.dst == client)
        logged_sent = sum(1 for e in events if e["dir"] == "c2s")
        logged_got = sum(1 + ("duplicate" in e["decision"]) for e in events
                         if e["dir"] == "s2c" and e["t_out"] is not None)
        if (sent, got) != (logged_sent, logged_got):
            raise PlatformError(
                _("the capture on the router missed packets: it holds {sent} from the client and "
                  "{got} to it, the engine logged {logged_sent} and {logged_got} "
                  "(tcpdump said: {said})").format(
                    sent=sent, got=got, logged_sent=logged_sent, logged_got=logged_got,
                    said=" ".join(self.summary.split())[-200:]))
        return found


@dataclass
class Transfer:
    """One file sent by the student's sender to their receiver, and what came of it."""

    what: str  # e.g. "a 100 KiB file, stop-and-wait, through the rdt link"
    data: bytes
    received: bytes | None  # the receiver's file; None if it wrote none
    sender: Finished
    receiver_exited: bool
    bound: float
    receiver_status: int | None = None  # its exit status, if it exited
    early: bytes | None = None  # the receiver's file right after the sender exited (peek=True)
    replies: list[bytes] = field(default_factory=list)  # its answers to crafted packets
    events: list[dict[str, Any]] = field(default_factory=list)  # the router's decisions (UDP)
    datagrams: list[rdt_wire.Datagram] = field(default_factory=list)  # the capture, if taken
    pcap: str = ""
    refused: list[bytes] = field(default_factory=list)  # what the client's closed port refused
    crashed: bool = False  # the receiver exited on the crafted packets (no transfer was run)
    flooded: str | None = None  # the students' programs flooded the link (in words)
    receiver_exit_at: float | None = None  # when the checker saw it had exited (time.time())
    peer: str = ""  # the checker's own receiver stood in for the student's: what it saw

    def wire(self) -> list[rdt_wire.Datagram]:
        """The captured datagrams to judge; the check fails if a flood cut the capture."""
        if self.flooded:
            expect.fail(_("a transfer the router could capture whole: each packet sent again only "
                          "after a timeout (R7)"),
                        _("{flood}; the capture stopped or lost packets, so this "
                          "check cannot judge the packets").format(flood=self.flooded), self.evidence())
        return self.datagrams

    def seconds(self) -> float | None:
        """The transfer's time as the router saw it: first packet in to last packet out."""
        ins = [e["t_in"] for e in self.events if e["dir"] == "c2s"]
        outs = [e["t_out"] for e in self.events if e["t_out"] is not None]
        return max(outs) - min(ins) if ins and outs else None

    def link(self) -> str:
        """What the router did to this transfer's packets, in words (evidence)."""
        lines = []
        for way, name in (("c2s", _("client -> server")), ("s2c", _("server -> client"))):
            seen = [e["decision"] for e in self.events if e["dir"] == way]
            if not seen:
                continue
            n: Counter[str] = Counter()
            for decision in seen:
                n["lost"] += decision.startswith("drop")
                n["copied"] += "duplicate" in decision
                n["sent ahead"] += decision.startswith("reorder")
                n["damaged"] += "corrupt" in decision
            done = [_(FATES[word]).format(count=count) for word, count in n.items() if count]
            fates = functools.reduce(lambda a, b: _("{first}, {second}").format(first=a, second=b),
                                     done) if done else ""
            lines.append("  " + ngettext("{way}: {count} packet; {fates}", "{way}: {count} packets; {fates}",
                                         len(seen)).format(way=name, count=len(seen), fates=fates))
        took = self.seconds()
        head = _("the router, during this transfer ({took:.2f} s first packet to last):").format(took=took) \
            if took is not None else _("the router, during this transfer:")
        return "\n".join([head, *lines]) if lines else _("no packet of the transfer crossed the router")

    def evidence(self) -> str:
        sender = _("the sender was killed after {bound:g} s").format(bound=self.bound) \
            if self.sender.timed_out else \
            _("the sender exited with status {status} after {elapsed:.1f} s").format(
                status=self.sender.returncode, elapsed=self.sender.elapsed)
        receiver = _("the receiver exited with status {status}").format(status=self.receiver_status) \
            if self.receiver_exited else _("the receiver had not exited")
        said = (_("{sender} (its output is below)").format(sender=sender) + "\n" + self.peer if self.peer
                else _("{sender} (its output is below); {receiver}").format(sender=sender, receiver=receiver))
        parts = [self.link(), said]
        if self.pcap:
            parts.append(_("the router's capture: {path} (open it with Wireshark)").format(path=self.pcap))
        return "\n".join(parts)


def describe(sent: bytes, got: bytes) -> str:
    """How ``got`` differs from ``sent``, in the units of the protocol: packets."""
    chunk = rdt_wire.MAX_PAYLOAD
    common = min(len(sent), len(got))
    bad = [i for i in range(0, common, chunk)
           if sent[i:min(i + chunk, common)] != got[i:min(i + chunk, common)]]
    text = _("a file of {size} bytes (SHA-256 {sha}...)").format(
        size=len(got), sha=hashlib.sha256(got).hexdigest()[:16])
    if bad:
        first = next(i for i in range(bad[0], bad[0] + chunk) if sent[i] != got[i])
        text += _(": it differs from byte {first} on (in packet {packet}); "
                  "{count} of its {chunk}-byte blocks differ").format(
            first=first, packet=first // chunk, count=len(bad), chunk=chunk)
    elif len(got) < len(sent):
        text += _(": the first {size} bytes are right, the rest is missing (from packet "
                  "{packet} on)").format(size=len(got), packet=len(got) // chunk)
    if len(got) > len(sent):
        extra = len(got) - len(sent)
        text += _("; {extra} bytes too many ({packets:.1f} packets' worth: data written twice?)").format(
            extra=extra, packets=extra / chunk)
    return text


class Transfers:
    """Run transfers for the checks; each check gets fresh names, a fresh receiver."""

    def __init__(self, ctx: Any, programs: Any, link: impairing.Link) -> None:
        self.ctx, self.programs, self.link = ctx, programs, link
        self.exit_at: float | None = None
        self.client, self.server = ctx.container("client"), ctx.container("server")

    def run(self, name: str, size: int, mode: str, what: str, *, bound: float,
            link: dict[str, Any], capture: bool = False, peek: bool = False,
            crafted: list[bytes] | None = None, quiet: float = QUIET) -> Transfer:
        """Send a seeded random file of ``size`` bytes in ``mode`` over ``link`` (a set
        request: ``profile=`` or ``config=``); the sender gets ``bound`` seconds.

        ``peek``: read the receiver's file as soon as the sender exits, too (it lingers
        then). ``crafted``: datagrams sent to the receiver first, over a clean link, from
        another socket of the client; what it answered is kept. ``quiet``: how long the
        capture goes on once both programs are done (a packet the router holds comes later).
        """
        data, source = self.put(name, size)
        target = f"/scratch/{name}.received"
        self.programs.start("receiver", [target])
        self.programs.wait_ready("receiver", timeout=30)
        replies = self.craft(crafted) if crafted else []
        if crafted and not self.programs.alive("receiver"):  # no transfer to wait out
            return Transfer(what, data, None, Finished([], -1, "", "", 0.0, False), True, bound,
                            self.programs.running["receiver"].returncode, None, replies,
                            crashed=True)
        version = self.link.set(**link)
        argv = ["--mode", mode, "server", str(PORT), source]
        datagrams: list[rdt_wire.Datagram] = []
        pcap, refused = "", []
        if capture:
            with RouterCapture(self.ctx, name, quiet) as cap:
                sender = self.programs.run("sender", argv, timeout=bound)
                early = self.read(target) if peek else None
                exited = self.receiver_exits()
        else:
            sender = self.programs.run("sender", argv, timeout=bound)
            early = self.read(target) if peek else None
            exited = self.receiver_exits()
        status = self.programs.running["receiver"].returncode if exited else None
        self.programs.stop("receiver")
        got = exec_bytes(self.server, ["cat", target])
        events = [e for e in self.link.events(version) if e["proto"] == "udp"]
        flooded = None
        if capture:
            datagrams = cap.datagrams(events, self.ctx.addresses["client"])
            flooded = cap.flooded
            pcap = str(cap.path)
            refused = rdt_wire.refused(cap.data, self.ctx.addresses["client"])
        return Transfer(what, data, got.stdout if got.returncode == 0 else None, sender, exited,
                        bound, status, early, replies, events, datagrams, pcap, refused,
                        flooded=flooded, receiver_exit_at=self.exit_at if exited else None)

    def put(self, name: str, size: int) -> tuple[bytes, str]:
        """A seeded random file of ``size`` bytes in the client's /scratch (written as the
        student): its bytes and its path."""
        data = random.Random(f"{self.ctx.seed}:{name}").randbytes(size)
        source = f"/scratch/{name}.bin"
        put = exec_bytes(self.client, ["python3", "-c", "import sys; open(sys.argv[1], 'wb')"  # not shown
                                       ".write(sys.stdin.buffer.read())", source], data)
        if put.returncode != 0:
            raise PlatformError(_("writing {path} in the client failed: {error}").format(
                path=source, error=put.stderr.decode()))
        return data, source

    def read(self, path: str) -> bytes | None:
        out = exec_bytes(self.server, ["cat", path])
        return out.stdout if out.returncode == 0 else None

    def craft(self, packets: list[bytes]) -> list[bytes]:
        """Send ``packets`` to the receiver over a clean link; what it sent back."""
        self.link.set(profile="clean")
        out = exec_bytes(self.client, ["python3", "-c", CRAFT, "server", str(PORT)],
                         ",".join(p.hex() for p in packets).encode())
        if out.returncode != 0:
            raise PlatformError(_("sending crafted packets failed: {error}").format(
                error=out.stderr.decode()[-300:]))
        return [bytes.fromhex(h) for h in out.stdout.decode().split()]

    def receiver_exits(self) -> bool:
        deadline = time.monotonic() + RECEIVER_EXIT
        while self.programs.alive("receiver"):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        self.exit_at = time.time()  # no sooner than it exited: the capture's clock
        return True


def arrived(t: Transfer) -> None:
    """The receiver's file is byte-identical to the sender's, within the time bound; then the
    sender exited with status 0 and the receiver exited by itself, with status 0."""
    __tracebackhide__ = True
    expected = _("{what}: the receiver's file byte-identical to the {size} bytes "
                 "sent (SHA-256 {sha}...)").format(
        what=t.what, size=len(t.data), sha=hashlib.sha256(t.data).hexdigest()[:16])
    if t.sender.timed_out:
        have = _("no file") if t.received is None else _("{size} bytes").format(size=len(t.received))
        expect.fail(_("{expected}, within {bound:g} s").format(expected=expected, bound=t.bound),
                    _("the sender still running after {bound:g} s (the receiver had {have})").format(
                        bound=t.bound, have=have),
                    t.evidence())
    if t.received is None:
        expect.fail(expected, _("no file: the receiver did not create the file named on its "
                                "command line"), t.evidence())
    if t.received != t.data:
        still = "" if t.receiver_exited else \
            _(" (the receiver had not exited {seconds:g} s after the sender)").format(seconds=RECEIVER_EXIT)
        expect.fail(expected, describe(t.data, t.received) + still, t.evidence())
    ended(t)


def ended(t: Transfer, sender_status: int = 0) -> None:
    """The sender exited with ``sender_status``, the receiver by itself with status 0."""
    __tracebackhide__ = True
    if t.sender.returncode != sender_status:
        meaning = _("the ACK of its FIN reached it") if sender_status == 0 else \
            _("it gave up waiting for the ACK of its FIN")
        expect.fail(_("{what}: the sender to exit with status {status} ({meaning})").format(
                        what=t.what, status=sender_status, meaning=meaning),
                    _("it exited with status {status}").format(status=t.sender.returncode), t.evidence())
    if not t.receiver_exited:
        expect.fail(_("{what}: the receiver to exit by itself within {seconds:g} s "
                      "after the sender (once no packet has come for 1 s)").format(
                        what=t.what, seconds=RECEIVER_EXIT), _("it was still running"),
                    t.evidence())
    if t.receiver_status != 0:
        expect.fail(_("{what}: the receiver to exit with status 0").format(what=t.what),
                    _("it exited with status {status}").format(status=t.receiver_status), t.evidence())
