"""The per-packet event log: one JSON object per line, and a one-line form for people.

``python3 -m socklab.impair.log EVENTS.jsonl`` prints a log in the human form.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterable
from typing import IO, Any

from socklab.impair.model import (
    PROTO_NAMES,
    TCP,
    UDP,
    Corrupt,
    Decision,
    Delay,
    Deliver,
    Drop,
    Duplicate,
    Event,
    Reorder,
)

_FLAG_LETTERS = "FSRPAU"


def flag_text(flags: int) -> str:
    """TCP flags as tcpdump's letters (F S R P . U, with ``.`` for ACK)."""
    return "".join("." if c == "A" else c for i, c in enumerate(_FLAG_LETTERS) if flags >> i & 1)


def _corrupt_words(v: Corrupt, payload_at: int) -> str:
    mode = "undetectable: no UDP checksum" if v.undetectable else "detected" if v.detected else "undetected"
    return f"corrupt payload byte {v.offset - payload_at} bit {v.bit} ({mode})"


# Each verdict's words, by its type (looked up, not tested in turn: this runs for every packet).
_WORDS: dict[type, Callable[[Any, int], str]] = {
    Deliver: lambda v, at: "pass",
    Drop: lambda v, at: f"drop ({v.cause})",
    # held with no delay drawn: only queued or kept in order
    Delay: lambda v, at: f"delay {v.ms:.1f} ms" if v.ms > 0 else "pass",
    Reorder: lambda v, at: "reorder (sent ahead)",
    Duplicate: lambda v, at: "duplicate",
    Corrupt: _corrupt_words,
}


def decision_text(decision: Decision, payload_at: int = 0) -> str:
    """The verdicts in words: ``delay 20.3 ms + duplicate``."""
    if len(decision) == 1:  # most decisions
        v = decision[0]
        return _WORDS[type(v)](v, payload_at)
    return " + ".join(_WORDS[type(v)](v, payload_at) for v in decision)


def record(event: Event) -> dict[str, Any]:
    """The event as plain data (one JSON line of the log)."""
    p = event.packet
    out: dict[str, Any] = {
        "t_in": round(event.t_in, 6),
        "t_out": None if event.t_out is None else round(event.t_out, 6),
        "id": event.id,
        "version": event.version,
        "dir": p.direction,
        "proto": PROTO_NAMES.get(p.proto, str(p.proto)),
        "src": p.src,
        "sport": p.sport,
        "dst": p.dst,
        "dport": p.dport,
        "size": p.size,
    }
    if p.proto == TCP:
        out.update(seq=p.seq, ack=p.ack, flags=flag_text(p.flags), len=p.length)
    elif p.proto == UDP:
        out["len"] = p.length
    out["decision"] = decision_text(event.decision, p.payload_at)
    out["rule"] = event.decision[0].rule
    if isinstance(event.decision[0], Delay):
        out["held_ms"] = round((event.decision[0].until - event.t_in) * 1000, 3)
    if event.t_read is not None:
        out["queued_ms"] = round((event.t_read - event.t_in) * 1000, 3)
    for v in event.decision:
        if isinstance(v, Corrupt):
            out["corrupt"] = {
                "byte": v.offset - p.payload_at,
                "offset": v.offset,
                "bit": v.bit,
                "detected": v.detected,
            }
            if v.undetectable:
                out["corrupt"]["undetectable"] = True
    return out


_FLAGS = [flag_text(i) for i in range(64)]
_quote = functools.lru_cache(maxsize=256)(json.dumps)


def _template(proto: str, fields: str, dropped: bool, stamped: bool) -> str:
    """The start of a packet's line, as a %-format (one C call fills it: about half the
    time of an f-string reading each field). ``null%.0s`` takes the None and prints nothing,
    and ``%.0s`` takes the queued time unprinted where there is none, so every form takes
    the same arguments."""
    return (
        '{"t_in":%.6f,"t_out":'
        + ("null%.0s" if dropped else "%.6f")
        + (',"queued_ms":%.3f' if stamped else "%.0s")
        + ',"id":%d,"version":%d,"dir":"%s","proto":'
        + proto
        + ',"src":"%s","sport":%d,"dst":"%s","dport":%d,"size":%d'
        + fields
        + ',"decision":"%s","rule":%s'
    )


def _templates(proto: str, fields: str) -> list[str]:
    """Indexed by dropped + 2 * stamped (a kernel timestamp, so a queued time)."""
    return [_template(proto, fields, d, s) for s in (False, True) for d in (False, True)]


_TCP_LINE = _templates('"tcp"', ',"seq":%d,"ack":%d,"flags":"%s","len":%d')
_UDP_LINE = _templates('"udp"', ',"len":%d')
_OTHER_LINE = _templates('"%s"', "")


def to_json(event: Event) -> str:
    """``json.dumps(record(event))``, written out by hand: it runs for every packet."""
    # Unpacked whole, in field order: quicker than reading a dozen attributes.
    packet_id, p, d, t_in, t_out, version, _planned, t_read = event
    direction, proto, src, dst, sport, dport, size, seq, ack, flags, length, payload_at = p
    fate = d[0]
    text = decision_text(d, payload_at)
    form = (t_out is None) + 2 * (t_read is not None)
    queued = None if t_read is None else (t_read - t_in) * 1000
    if proto == TCP:
        line = _TCP_LINE[form] % (
            t_in,
            t_out,
            queued,
            packet_id,
            version,
            direction,
            src,
            sport,
            dst,
            dport,
            size,
            seq,
            ack,
            _FLAGS[flags],
            length,
            text,
            _quote(fate.rule),
        )
    elif proto == UDP:
        line = _UDP_LINE[form] % (
            t_in,
            t_out,
            queued,
            packet_id,
            version,
            direction,
            src,
            sport,
            dst,
            dport,
            size,
            length,
            text,
            _quote(fate.rule),
        )
    else:
        line = _OTHER_LINE[form] % (
            t_in,
            t_out,
            queued,
            packet_id,
            version,
            direction,
            PROTO_NAMES.get(proto, proto),
            src,
            sport,
            dst,
            dport,
            size,
            text,
            _quote(fate.rule),
        )
    if type(fate) is Delay:
        line += f',"held_ms":{round((fate.until - t_in) * 1000, 3)!r}'  # type: ignore[union-attr]
    for v in d:
        if type(v) is Corrupt:
            line += (
                f',"corrupt":{{"byte":{v.offset - payload_at},"offset":{v.offset},'
                f'"bit":{v.bit},"detected":{"true" if v.detected else "false"}'
                + (',"undetectable":true}' if v.undetectable else "}")
            )
    return line + "}"


def human(rec: dict[str, Any]) -> str:
    """One line: ``  1.204311 >   1.224390 c2s tcp 10.0.0.10:40000 > ... delay 20.0 ms [default]``."""
    if "event" in rec:  # start, config and stop lines
        rest = " ".join(f"{k}={v}" for k, v in rec.items() if k not in ("event", "t"))
        return f"{rec.get('t', 0):12.6f}  --- {rec['event']} {rest}"
    out = "dropped" if rec["t_out"] is None else f"{rec['t_out']:12.6f}"
    ends = f"{rec['src']}:{rec['sport']} > {rec['dst']}:{rec['dport']}"
    if rec["proto"] not in ("tcp", "udp"):
        ends = f"{rec['src']} > {rec['dst']}"
    if rec["proto"] == "tcp":
        detail = f"[{rec['flags']}] seq {rec['seq']} ack {rec['ack']} len {rec['len']}"
    elif rec["proto"] == "udp":
        detail = f"len {rec['len']}"
    else:
        detail = f"size {rec['size']}"
    return (
        f"{rec['t_in']:12.6f} > {out:>12} #{rec['id']} v{rec['version']} {rec['dir']} "
        f"{rec['proto']} {ends} {detail}  {rec['decision']} [{rec['rule'] or '-'}]"
    )


def print_log(lines: Iterable[str], out: IO[str]) -> None:
    for line in lines:
        if line.strip():
            out.write(human(json.loads(line)) + "\n")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python3 -m socklab.impair.log EVENTS.jsonl")
    with open(sys.argv[1], encoding="utf-8") as f:
        print_log(f, sys.stdout)
