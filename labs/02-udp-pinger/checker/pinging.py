"""Lab 2's judgement, free of I/O: the pinger's output read, the router's log turned into
what really happened to each ping, and the two compared.

The router's impairment engine logs every datagram it forwards or drops (``t_in`` when it
reached the router, ``t_out`` when it left). The checker's echo server notes the text of
every request it got. Requests reach the server in the order they crossed the router,
and the server answers each at once, so the n-th request the router passed is the n-th
datagram the server got, and the n-th reply the router saw answers it.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Any

from rich.cells import cell_len

from socklab.checking import expect
from socklab.i18n import N_, _, ngettext

# The names the probe gives its awkward datagrams (socklab/probes/udp_pinger.py, in English
# in the container), as the reader reads them (expect.said)
DATAGRAM_NAMES = (
    (re.compile(r"a ping"),
     N_("a ping")),
    (re.compile(r"the same ping again \(a datagram repeated is a new one\)"),
     N_("the same ping again (a datagram repeated is a new one)")),
    (re.compile(r"one byte"),
     N_("one byte")),
    (re.compile(r"an empty datagram"),
     N_("an empty datagram")),
    (re.compile(r"another empty datagram"),
     N_("another empty datagram")),
    (re.compile(r"a ping with whitespace at both ends (?P<text>.*)", re.S),
     N_("a ping with whitespace at both ends {text}")),
    (re.compile(r"several lines of multi-byte UTF-8 text, ending in a newline"),
     N_("several lines of multi-byte UTF-8 text, ending in a newline")),
    (re.compile(r"all 256 byte values \(not text\)"),
     N_("all 256 byte values (not text)")),
    (re.compile(r"all 256 byte values, backwards \(the last one NUL\)"),
     N_("all 256 byte values, backwards (the last one NUL)")),
    (re.compile(r"(?P<size>\d+) random bytes"),
     N_("{size} random bytes")),
    (re.compile(r"a ping after all that"),
     N_("a ping after all that")),
)


def datagram_name(name: str) -> str:
    """The probe's name for one of its datagrams, in the reader's language."""
    return expect.said(name, DATAGRAM_NAMES) or name

PORT = 5000
TIMEOUT = 1.0  # seconds a ping waits for its reply
# A reported RTT against the router's log. The pinger sent the request before the router
# read it (``t_in``), and got the reply after the router let it go, which was no earlier
# than its planned release (``t_in + held_ms``) and no later than ``t_out`` (logged just
# after the release, so late when the engine is descheduled in between):
RTT_BELOW = 2.0  # ms the pinger may see less than the least possible: it prints rounded numbers
RTT_ABOVE = 500.0  # ms it may see more: the hops to and from the router, and the wake-up of
# a nice-19 program on a loaded machine (measured: up to 200 ms at a load of 150 on 2 cores)
# A reply that left the router this long after its request may be taken or timed out:
NEAR_TIMEOUT = (TIMEOUT * 1000 - RTT_ABOVE, TIMEOUT * 1000 + RTT_ABOVE)

LINE = re.compile(r"seq=(\d+) (?:rtt=(\d+(?:\.\d+)?) ms|(timeout))")
NUMBER = r"(\d+(?:\.\d+)?)"
LOSS_ROUNDING = 0.051  # the loss printed with one decimal (R9: like `30.0`), and no worse
SUMMARY = re.compile(rf"--- (\d+) sent, (\d+) received, {NUMBER}% loss"
                     rf"(?:, rtt min/avg/max = {NUMBER}/{NUMBER}/{NUMBER} ms)?")
REQUEST = re.compile(r"PING (\d+) (\d+(?:\.\d*)?)")


@dataclass(frozen=True)
class Summary:
    sent: int
    received: int
    loss: float  # percent
    rtt: tuple[float, float, float] | None  # min, avg, max in ms


@dataclass
class Report:
    """What the pinger printed: one result per ping (an RTT in ms, or None for a timeout)."""

    rtts: dict[int, float | None]
    problems: list[str]
    summary: Summary | None


def read_output(stdout: str, count: int) -> Report:
    """The ``seq=`` lines and the ``---`` summary line; other lines are the pinger's own."""
    rtts: dict[int, float | None] = {}
    problems, summaries = [], []
    for line in (raw.strip() for raw in stdout.splitlines()):
        if line.startswith("seq="):
            match = LINE.fullmatch(line)
            if not match:
                problems.append(_("a line not in the form 'seq=N rtt=X ms' or 'seq=N timeout': "
                                  "{line}").format(line=repr(line[:80])))
                continue
            seq = int(match.group(1))
            if seq in rtts:
                problems.append(_("seq={seq} reported twice").format(seq=seq))
            elif rtts and seq < max(rtts):
                problems.append(_("seq={seq} reported after seq={last}").format(seq=seq, last=max(rtts)))
            rtts.setdefault(seq, None if match.group(3) else float(match.group(2)))
        elif line.startswith("---"):
            match = SUMMARY.fullmatch(line)
            if not match:
                problems.append(_("a summary line not in the README's form: {line}").format(
                    line=repr(line[:100])))
                continue
            rtt = tuple(float(g) for g in match.groups()[3:]) if match.group(4) else None
            summaries.append(Summary(int(match.group(1)), int(match.group(2)),
                                     float(match.group(3)), rtt))  # type: ignore[arg-type]
    problems += [_("seq={seq}: no line").format(seq=seq) for seq in range(1, count + 1) if seq not in rtts]
    problems += [_("seq={seq} reported, but only {count} pings were asked for").format(seq=seq, count=count)
                 for seq in rtts if not 1 <= seq <= count]
    if len(summaries) > 1:
        problems.append(_("{count} summary lines, not one").format(count=len(summaries)))
    return Report(rtts, problems, summaries[-1] if summaries else None)


def dropped(event: dict[str, Any]) -> bool:
    return event["decision"].startswith("drop")


def why(event: dict[str, Any]) -> str:
    cause = {"drop (loss)": _("random loss"), "drop (script)": _("a scripted drop")}
    return cause.get(event["decision"], event["decision"])


@dataclass
class Ping:
    """One ping as the router saw it: its request, and the reply to it if the server got it."""

    seq: int
    request: dict[str, Any]
    reply: dict[str, Any] | None

    @property
    def rtt(self) -> float | None:
        """ms from the request reaching the router to its reply leaving it; None if lost."""
        if dropped(self.request) or self.reply is None or dropped(self.reply):
            return None
        return (self.reply["t_out"] - self.request["t_in"]) * 1000

    @property
    def floor(self) -> float | None:
        """ms the round trip took at least: from the request reaching the router to the
        planned release of the reply; None if lost."""
        if self.rtt is None or self.reply is None:
            return None
        return (self.reply["t_in"] - self.request["t_in"]) * 1000 + self.reply.get("held_ms", 0.0)

    @property
    def verdict(self) -> str:
        """``answered`` (its reply came in time), ``lost``, or ``either`` (near the timeout)."""
        if self.rtt is None or self.rtt > NEAR_TIMEOUT[1]:
            return "lost"
        return "answered" if self.rtt < NEAR_TIMEOUT[0] else "either"

    def fate(self) -> str:
        if dropped(self.request):
            return _("request dropped by the router ({why})").format(why=why(self.request))
        if self.reply is None:
            return _("reply dropped by the router")
        if dropped(self.reply):
            return _("reply dropped by the router ({why})").format(why=why(self.reply))
        if self.verdict == "lost":
            return _("reply held back: left the router {rtt:.0f} ms after the request").format(rtt=self.rtt)
        if self.verdict == "either":
            return _("answered in {rtt:.0f} ms, near the timeout: either is right").format(rtt=self.rtt)
        return _("answered: {rtt:.1f} ms at the router").format(rtt=self.rtt)


def to_pings(events: list[dict[str, Any]], received: list[dict[str, Any]],
             count: int) -> tuple[list[Ping], list[str]]:
    """The router's log read as pings 1..count, and what stops it (nothing when it works).

    ``events`` are the engine's records of one config version; ``received`` what the
    checker's echo server got, in order.
    """
    requests = [e for e in events if e["proto"] == "udp" and e["dir"] == "c2s"
                and e["dport"] == PORT]
    replies = [e for e in events if e["proto"] == "udp" and e["dir"] == "s2c"
               and e["sport"] == PORT]
    passed = [e for e in requests if not dropped(e)]
    problems = []
    if len(requests) != count:
        problems.append(ngettext(
            "{sent} datagram to UDP port {port} crossed the router, not {count} (one per ping)",
            "{sent} datagrams to UDP port {port} crossed the router, not {count} (one per ping)",
            len(requests)).format(sent=len(requests), port=PORT, count=count))
    for event, got in zip(passed, received, strict=False):
        seq = requests.index(event) + 1
        match = REQUEST.fullmatch(got["text"])
        if not match:
            problems.append(_("datagram {seq} reads {text}, not 'PING {seq} <timestamp>'").format(
                seq=seq, text=repr(got["text"][:60])))
        elif int(match.group(1)) != seq:
            problems.append(_("datagram {seq} carries sequence number {carried}: the pings must be "
                              "numbered 1, 2, 3 ... in the order they are sent").format(
                                  seq=seq, carried=match.group(1)))
    pings = []
    for seq, event in enumerate(requests, 1):
        reply = None
        if not dropped(event):
            n = passed.index(event)
            reply = replies[n] if n < len(replies) else None
        pings.append(Ping(seq, event, reply))
    return pings, problems


def reported(rtt: float | None, missing: bool = False) -> str:
    if missing:
        return _("(no line)")
    return "timeout" if rtt is None else f"rtt={rtt:g} ms"  # the pinger's words, as it printed them


def padded(text: str, width: int) -> str:
    """``text`` in a column ``width`` cells wide (a Chinese character takes two)."""
    return text + " " * max(0, width - cell_len(text))


def table(pings: list[Ping], report: Report) -> str:
    """Evidence: each ping as the router saw it, next to what the pinger printed."""
    did, printed = _("what the router did"), _("what your pinger printed")
    rows = [f"  {'seq':>4}  {padded(did, 58)}  {printed}"]
    for p in pings:
        rows.append(f"  {p.seq:>4}  {padded(p.fate(), 58)}  "
                    f"{reported(report.rtts.get(p.seq), p.seq not in report.rtts)}")
    return "\n".join(rows)


def rtt_window(floor: float, rtt: float) -> tuple[float, float]:
    """The RTTs a pinger may report for a round trip the router logged as ``floor``, ``rtt``."""
    return floor - RTT_BELOW, rtt + RTT_ABOVE


def loss_mismatches(pings: list[Ping], report: Report) -> list[str]:
    """Pings reported as answered that were lost, and the other way round."""
    out = []
    for p in pings:
        if p.seq not in report.rtts:
            continue
        rtt = report.rtts[p.seq]
        if p.verdict == "lost" and rtt is not None:
            out.append(_("seq={seq}: {fate}, so no reply to it reached your pinger in time, yet it "
                         "printed rtt={rtt:g} ms").format(seq=p.seq, fate=p.fate(), rtt=rtt))
        elif p.verdict == "answered" and rtt is None:
            out.append(_("seq={seq}: its reply left the router {rtt:.1f} ms after the request came, "
                         "well within the timeout, yet your pinger printed timeout").format(
                             seq=p.seq, rtt=p.rtt))
    return out


def rtt_mismatches(pings: list[Ping], report: Report) -> list[str]:
    """Pings reported with an RTT that the router's log rules out."""
    out = []
    for p in pings:
        rtt = report.rtts.get(p.seq)
        if rtt is None or p.rtt is None or p.floor is None or p.verdict == "lost":
            continue
        low, high = rtt_window(p.floor, p.rtt)
        if not low <= rtt <= high:
            out.append(_("seq={seq}: printed rtt={rtt:g} ms, but the router held its reply until "
                         "{floor:.1f} ms after the request came and let it go by {left:.1f} ms "
                         "(expected {low:.1f} to {high:.1f} ms)").format(
                             seq=p.seq, rtt=rtt, floor=p.floor, left=p.rtt, low=max(low, 0), high=high))
    return out


def stats(values: list[float]) -> tuple[float, float, float]:
    return min(values), sum(values) / len(values), max(values)


def summary_mismatches(pings: list[Ping], report: Report, count: int) -> tuple[str, list[str]]:
    """The summary line the router's log calls for, and what is wrong with the pinger's."""
    sure = sum(1 for p in pings if p.verdict == "answered")
    either = sum(1 for p in pings if p.verdict == "either")
    came = [p for p in pings  # the pings the pinger says came back, as the router saw them
            if report.rtts.get(p.seq) is not None and p.verdict != "lost"]
    took = [p.rtt for p in came if p.rtt is not None]
    least = [p.floor for p in came if p.floor is not None]
    # The summary line R9 asks for, verbatim: the pinger's words, not socklab's ("not shown" as
    # prose to translate, though it is quoted in the message)
    line = f"--- {count} sent, {sure} received, {100 * (count - sure) / count:.1f}% loss"  # not shown
    answered = [p.rtt for p in pings if p.rtt is not None and p.verdict == "answered"]
    if answered:
        line += ", rtt min/avg/max = {:.1f}/{:.1f}/{:.1f} ms".format(*stats(answered))  # not shown
    expected = (_("'{line}' (by the router's log; {either} more received would be right too)").format(
        line=line, either=either) if either else _("'{line}' (by the router's log)").format(line=line))
    said = report.summary
    if said is None:
        return expected, [_("no summary line")]
    wrong = []
    if said.sent != count:
        wrong.append(f"{said.sent} sent")
    if not sure <= said.received <= sure + either:
        wrong.append(f"{said.received} received")
    received = min(max(said.received, sure), sure + either)
    if abs(said.loss - 100 * (count - received) / count) > LOSS_ROUNDING:
        wrong.append(f"{said.loss:g}% loss")
    if took and said.rtt is None:
        wrong.append(_("no min/avg/max RTT"))
    elif said.rtt is not None and said.received == 0:
        wrong.append(_("a min/avg/max RTT though no ping was received (the line stops after the "
                       "loss)"))
    elif took and said.rtt is not None:
        for name, value, low_at, high_at in zip(("min", "avg", "max"), said.rtt, stats(least),
                                                stats(took), strict=True):
            low, high = rtt_window(low_at, high_at)
            if not low <= value <= high:
                wrong.append(_("rtt {name} {value:g} ms (expected {low:.1f} to {high:.1f})").format(
                    name=name, value=value, low=max(low, 0), high=high))
    return expected, wrong


def without_strays(events: list[dict[str, Any]], sent: list[str]) -> list[dict[str, Any]]:
    """The router's events less the late copies the checker's echo server sent on purpose.

    ``sent`` is the kind of each datagram the server sent, in order (``reply`` or
    ``stray``); the router saw them in that order (``events`` are in arrival order).
    """
    kinds = iter(sent)
    kept = []
    for event in events:
        if (event["proto"] == "udp" and event["dir"] == "s2c" and event["sport"] == PORT
                and next(kinds, "reply") == "stray"):
            continue
        kept.append(event)
    return kept


NEXT_AT_ONCE = 0.5  # s from a reply leaving the router to the next request reaching it (R7)
CLOCK_SLACK = (-0.1, 1.0)  # s a request's timestamp may be after / before the server got it


def pause_problems(pings: list[Ping], report: Report) -> list[str]:
    """Answered pings after which the next request came late: the pinger paused."""
    out = []
    for done, after in itertools.pairwise(pings):
        if done.verdict != "answered" or report.rtts.get(done.seq) is None or done.reply is None:
            continue
        gap = after.request["t_in"] - done.reply["t_out"]
        if gap > NEXT_AT_ONCE:
            out.append(_("ping {seq} reached the router {gap:.2f} s after the reply to ping {done} left "
                         "it").format(seq=after.seq, gap=gap, done=done.seq))
    return out


def socket_problems(events: list[dict[str, Any]]) -> list[str]:
    """Requests sent from more than one source port: more than one socket."""
    ports = sorted({e["sport"] for e in events if e["proto"] == "udp" and e["dir"] == "c2s"
                    and e["dport"] == PORT})
    if len(ports) <= 1:
        return []
    return [_("the requests came from {count} source ports ({ports}): a new socket for each ping").format(
        count=len(ports), ports=", ".join(map(str, ports[:6])) + (", ..." if len(ports) > 6 else ""))]


def timestamp_problems(received: list[dict[str, Any]]) -> list[str]:
    """Requests whose timestamp is not ``time.time()`` when they were sent, as far as the
    wall clock of the server that got them can tell (same machine, same clock)."""
    out = []
    for got in received:
        match = REQUEST.fullmatch(got["text"])
        if not match or "wall" not in got:
            continue
        if not re.fullmatch(r"\d+\.\d+", match.group(2)):
            out.append(_("'{text}': the timestamp has no fraction of a second").format(text=got["text"][:40]))
            continue
        early = got["wall"] - float(match.group(2))
        if not CLOCK_SLACK[0] <= early <= CLOCK_SLACK[1]:
            out.append(_("'{text}' reached the server at time.time() = {wall:.3f}, {early:+.3f} s from "
                         "its timestamp").format(text=got["text"][:40], wall=got["wall"], early=early))
    return out


def wildcard(local: str) -> bool:
    """Whether an ``ss`` local address (``0.0.0.0:5000``, ``*:5000``, ``[::]:5000``) is
    every address of the machine."""
    return local.rsplit(":", 1)[0].split("%")[0] in {"0.0.0.0", "*", "[::]", "::"}
