"""Lab 8's transfers: run one file transfer between the student's sender and receiver
through the impaired router, capture it, and judge the file that arrived.

A transfer: the checker writes a seeded random file in the client's /scratch (as the
student), starts the receiver in the server, sets the link, runs the sender to its end,
waits for the receiver to exit, and reads the receiver's file back (as the student).
"""

from __future__ import annotations

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
from socklab.checking.programs import STUDENT, Finished, ProgramError, docker_exec, refused
from socklab.errors import PlatformError

PORT = 5000
RECEIVER_EXIT = 8.0  # seconds the receiver may take to exit after the sender (it lingers 1 s)
QUIET = 0.3  # seconds for the last packets to cross the router before the capture stops


def exec_bytes(container: str, argv: list[str], data: bytes = b"",
               timeout: float = 60) -> subprocess.CompletedProcess[bytes]:
    """A ``docker exec`` as the student, bytes in and out."""
    for attempt in range(8):
        out = subprocess.run(docker_exec(container, argv, user=STUDENT, detach_in=bool(data)),
                             input=data or None, capture_output=True, timeout=timeout, check=False)
        if not refused(out.returncode, out.stderr.decode(errors="replace")):
            return out
        time.sleep(0.1 * (attempt + 1))
    raise ProgramError(f"{container} had no process to spare for the checker (its pids limit)")


class RouterCapture:
    """tcpdump on the router (both interfaces) for UDP port ``PORT``, while a block runs.

    It writes to the router's /tmp (a slow reader on a pipe would make the kernel drop
    packets) with a large buffer, and a capture that missed packets is the platform's
    failure: the checks below judge every packet, and a missing ACK would look like a
    packet sent too early.
    """

    def __init__(self, ctx: Any, name: str) -> None:
        self.router = ctx.container("router")
        self.path = Path(ctx.artifacts) / f"{name}.pcap"
        self.inside = f"/tmp/{name}.pcap"

    def __enter__(self) -> RouterCapture:
        # -Z root: with -w, tcpdump would chown the file to its own user, and the router's
        # root may not chown. With -w it only copies packets out; it dissects none.
        # -s 2048: a whole packet at the links' MTU of 1500. Without it each slot of the
        # kernel's ring is sized for 256 KiB packets, so the 16 MiB ring held only a few
        # dozen packets, and a capture under load lost some ("dropped by kernel").
        script = ('echo $$ >&2; exec tcpdump -i any -n -s 2048 -U --immediate-mode -B 16384 '
                  '-Z root "$@"')
        self.proc = subprocess.Popen(
            ["docker", "exec", self.router, "sh", "-c", script, "sh", "-w", self.inside,
             "udp", "port", str(PORT)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        assert self.proc.stderr
        self.pid = self.proc.stderr.readline().decode().strip()
        said = []
        while line := self.proc.stderr.readline().decode():
            said.append(line)
            if "listening on" in line:
                break
        else:
            raise PlatformError(f"tcpdump did not start on the router: {''.join(said).strip()}")
        return self

    def __exit__(self, *exc: object) -> None:
        time.sleep(QUIET)  # the last packets are crossing the router
        subprocess.run(["docker", "exec", self.router, "kill", "-INT", self.pid],
                       capture_output=True, check=False)
        try:
            _, err = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise PlatformError("tcpdump on the router did not stop") from None
        self.summary = err.decode(errors="replace")
        out = subprocess.run(["docker", "exec", self.router, "sh", "-c",
                              'cat "$1" && rm "$1"', "sh", self.inside],
                             capture_output=True, timeout=60, check=False)
        if out.returncode != 0:
            raise PlatformError(f"reading the capture on the router failed: {out.stderr.decode()}")
        self.data = out.stdout
        self.path.write_bytes(self.data)

    def datagrams(self, events: list[dict[str, Any]], client: str) -> list[rdt_wire.Datagram]:
        """The capture's datagrams, checked against the engine's log: none may be missing."""
        try:
            found = rdt_wire.read(self.data)
        except rdt_wire.PcapError as exc:
            raise PlatformError(f"the capture {self.path} could not be read: {exc}") from None
        sent = sum(1 for d in found if not d.outgoing and d.src == client)
        got = sum(1 for d in found if d.outgoing and d.dst == client)
        logged_sent = sum(1 for e in events if e["dir"] == "c2s")
        logged_got = sum(1 + ("duplicate" in e["decision"]) for e in events
                         if e["dir"] == "s2c" and e["t_out"] is not None)
        if (sent, got) != (logged_sent, logged_got):
            raise PlatformError(
                f"the capture on the router missed packets: it holds {sent} from the client and "
                f"{got} to it, the engine logged {logged_sent} and {logged_got} "
                f"(tcpdump said: {' '.join(self.summary.split())[-200:]})")
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
    events: list[dict[str, Any]] = field(default_factory=list)  # the router's decisions (UDP)
    datagrams: list[rdt_wire.Datagram] = field(default_factory=list)  # the capture, if taken
    pcap: str = ""

    def seconds(self) -> float | None:
        """The transfer's time as the router saw it: first packet in to last packet out."""
        ins = [e["t_in"] for e in self.events if e["dir"] == "c2s"]
        outs = [e["t_out"] for e in self.events if e["t_out"] is not None]
        return max(outs) - min(ins) if ins and outs else None

    def link(self) -> str:
        """What the router did to this transfer's packets, in words (evidence)."""
        lines = []
        for way, name in (("c2s", "client -> server"), ("s2c", "server -> client")):
            seen = [e["decision"] for e in self.events if e["dir"] == way]
            if not seen:
                continue
            n: Counter[str] = Counter()
            for decision in seen:
                n["lost"] += decision.startswith("drop")
                n["copied"] += "duplicate" in decision
                n["sent ahead"] += decision.startswith("reorder")
                n["damaged"] += "corrupt" in decision
            lines.append(f"  {name}: {len(seen)} packets; " + ", ".join(
                f"{count} {word}" for word, count in n.items() if count))
        took = self.seconds()
        head = f"the router, during this transfer ({took:.2f} s first packet to last):" \
            if took is not None else "the router, during this transfer:"
        return "\n".join([head, *lines]) if lines else "no packet of the transfer crossed the router"

    def evidence(self) -> str:
        sender = f"the sender was killed after {self.bound:g} s" if self.sender.timed_out else \
            f"the sender exited with status {self.sender.returncode} after {self.sender.elapsed:.1f} s"
        parts = [self.link(), sender + " (its output is below)"]
        if self.pcap:
            parts.append(f"the router's capture: {self.pcap} (open it with Wireshark)")
        return "\n".join(parts)


def describe(sent: bytes, got: bytes) -> str:
    """How ``got`` differs from ``sent``, in the units of the protocol: packets."""
    chunk = rdt_wire.MAX_PAYLOAD
    common = min(len(sent), len(got))
    bad = [i for i in range(0, common, chunk)
           if sent[i:min(i + chunk, common)] != got[i:min(i + chunk, common)]]
    text = f"a file of {len(got)} bytes (SHA-256 {hashlib.sha256(got).hexdigest()[:16]}...)"
    if bad:
        first = next(i for i in range(bad[0], bad[0] + chunk) if sent[i] != got[i])
        text += (f": it differs from byte {first} on (in packet {first // chunk}); "
                 f"{len(bad)} of its {chunk}-byte blocks differ")
    elif len(got) < len(sent):
        text += (f": the first {len(got)} bytes are right, the rest is missing (from packet "
                 f"{len(got) // chunk} on)")
    if len(got) > len(sent):
        extra = len(got) - len(sent)
        text += f"; {extra} bytes too many ({extra / chunk:.1f} packets' worth: data written twice?)"
    return text


class Transfers:
    """Run transfers for the checks; each check gets fresh names, a fresh receiver."""

    def __init__(self, ctx: Any, programs: Any, link: impairing.Link) -> None:
        self.ctx, self.programs, self.link = ctx, programs, link
        self.client, self.server = ctx.container("client"), ctx.container("server")

    def run(self, name: str, size: int, mode: str, what: str, *, bound: float,
            link: dict[str, Any], capture: bool = False) -> Transfer:
        """Send a seeded random file of ``size`` bytes in ``mode`` over ``link`` (a set
        request: ``profile=`` or ``config=``); the sender gets ``bound`` seconds."""
        data = random.Random(f"{self.ctx.seed}:{name}").randbytes(size)
        source, target = f"/scratch/{name}.bin", f"/scratch/{name}.received"
        put = exec_bytes(self.client, ["python3", "-c", "import sys; open(sys.argv[1], 'wb')"
                                       ".write(sys.stdin.buffer.read())", source], data)
        if put.returncode != 0:
            raise PlatformError(f"writing {source} in the client failed: {put.stderr.decode()}")
        self.programs.start("receiver", [target])
        self.programs.wait_ready("receiver", timeout=30)
        version = self.link.set(**link)
        argv = ["--mode", mode, "server", str(PORT), source]
        datagrams: list[rdt_wire.Datagram] = []
        pcap = ""
        if capture:
            with RouterCapture(self.ctx, name) as cap:
                sender = self.programs.run("sender", argv, timeout=bound)
                exited = self.receiver_exits()
        else:
            sender = self.programs.run("sender", argv, timeout=bound)
            exited = self.receiver_exits()
        self.programs.stop("receiver")
        got = exec_bytes(self.server, ["cat", target])
        events = [e for e in self.link.events(version) if e["proto"] == "udp"]
        if capture:
            datagrams = cap.datagrams(events, self.ctx.addresses["client"])
            pcap = str(cap.path)
        return Transfer(what, data, got.stdout if got.returncode == 0 else None, sender, exited,
                        bound, events, datagrams, pcap)

    def receiver_exits(self) -> bool:
        deadline = time.monotonic() + RECEIVER_EXIT
        while self.programs.alive("receiver"):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True


def arrived(t: Transfer) -> None:
    """The receiver's file is byte-identical to the sender's, within the time bound."""
    __tracebackhide__ = True
    expected = (f"{t.what}: the receiver's file byte-identical to the {len(t.data)} bytes "
                f"sent (SHA-256 {hashlib.sha256(t.data).hexdigest()[:16]}...)")
    if t.sender.timed_out:
        have = "no file" if t.received is None else f"{len(t.received)} bytes"
        expect.fail(f"{expected}, within {t.bound:g} s",
                    f"the sender still running after {t.bound:g} s (the receiver had {have})",
                    t.evidence())
    if t.received is None:
        expect.fail(expected, "no file: the receiver did not create the file named on its "
                    "command line", t.evidence())
    if t.received != t.data:
        still = "" if t.receiver_exited else \
            f" (the receiver had not exited {RECEIVER_EXIT:g} s after the sender)"
        expect.fail(expected, describe(t.data, t.received) + still, t.evidence())
