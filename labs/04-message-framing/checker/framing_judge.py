"""Lab 4's judges: what the probe saw, against what the protocol says. No Docker here.

Each judge takes the probe's report (a dict) or a program's output and either returns or
fails with expected-vs-observed (``expect.fail``). They are unit-tested in
tests/unit/test_lab04_framing.py. The inputs the checks send are made here too, seeded.
"""

from __future__ import annotations

import random
import re
import struct
from typing import Any

from socklab.checking import expect
from socklab.i18n import _, ngettext

HEADER = struct.Struct("!cI")
MAX_SIZE = 1024 * 1024
# Text with characters of 1, 2, 3 and 4 bytes in UTF-8: bytes are not characters.
ALPHABET = "abcdefghijklmnopqrstuvwxyz ABCXYZ0123456789,.!?" + "éüßñ" + "€中文字ー" + "🙂🚀"
# Sizes where programs break: buffers of 1024, 4096, 8192 and 65536 bytes, a header (5)
# less than them, and one more.
BOUNDARIES = [1019, 1023, 1024, 1025, 4091, 4095, 4096, 4097, 8187, 8191, 8192, 8193, 65531,
              65536, 65537]


def text(rng: random.Random, size: int) -> str:
    """Seeded text of exactly ``size`` UTF-8 bytes, multi-byte characters among them."""
    chars, used = [], 0
    while used < size:
        char = rng.choice(ALPHABET)
        if used + len(char.encode()) > size:
            char = rng.choice("abcxyz")
        chars.append(char)
        used += len(char.encode())
    return "".join(chars)


def frame(kind: bytes, payload: bytes) -> bytes:
    return HEADER.pack(kind, len(payload)) + payload


def replies_right(seen: dict[str, Any], what: str, evidence: str = "") -> None:
    """Every reply came back: an M frame holding its message reversed, in order."""
    __tracebackhide__ = True
    if seen["first_difference"] is None:
        return
    count, diff = seen["replies"], seen["first_difference"]
    observed = _("{right} of {count} replies right").format(right=seen["complete_replies"], count=count)
    if diff < seen["received"] and seen["reply"] < count:
        observed += _("; reply {reply} differs at its {part}: expected {expected}, got {got} (hex)").format(
            reply=seen["reply"] + 1, part=part(seen["part"]), expected=seen["expected_at"],
            got=seen["got_at"])
    elif diff < seen["received"]:
        observed += _("; {extra} bytes more than the replies").format(
            extra=seen["received"] - seen["expected"])
    else:
        observed += _("; reply {reply} stopped at its {part} ({received} of {expected} reply bytes came "
                      "back)").format(reply=seen["reply"] + 1, part=part(seen["part"]),
                                      received=seen["received"], expected=seen["expected"])
    if "got_header" in seen:
        head = seen["got_header"]
        observed += _("; that reply's header says kind {kind}, length {length}").format(
            kind=repr(head["kind"]), length=head["length"])
        if "got_error" in seen:
            observed += _(", error {error}").format(error=repr(seen["got_error"]))
    if seen.get("written", seen.get("stream", 0)) < seen.get("stream", 0):
        observed += _("; only {written} of {stream} bytes could be sent").format(
            written=seen["written"], stream=seen["stream"])
    if seen.get("overflow"):
        observed += f" ({expect.stopped_reading(seen['received'])})"
    elif seen["error"]:
        observed += f" ({seen['error']})"
    elif seen["peer_closed"]:
        observed += _(" (then the server closed the connection)")
    expected = ngettext("{what}: its reply, an M frame holding the message reversed",
                        "{what}: {count} replies, each an M frame holding the message reversed", count)
    expect.fail(expected.format(what=what, count=count), observed, evidence)


def part(where: str) -> str:
    """The probe's name for a place in a reply (``header byte 2``), in the reader's language."""
    kind, _sep, at = where.partition(" byte ")
    if kind == "header" and at:
        return _("header byte {at}").format(at=at)
    if kind == "payload" and at:
        return _("payload byte {at}").format(at=at)
    return _("after the last reply") if where == "after the last reply" else where


def describe(got: bytes) -> str:
    """Bytes from the server, read as frames where they can be."""
    if not got:
        return _("no bytes")
    parts, at = [], 0
    while at < len(got) and len(parts) < 3:
        if len(got) - at < HEADER.size:
            parts.append(_("{count} bytes ({hex}), less than a header").format(count=len(got) - at,
                                                                             hex=got[at:].hex()))
            break
        kind, length = HEADER.unpack(got[at:at + HEADER.size])
        body = got[at + HEADER.size:at + HEADER.size + min(length, 64)]
        parts.append(_("a frame of kind {kind}, length {length}, payload {payload}").format(
            kind=repr(kind.decode("latin-1")), length=length, payload=repr(body)))
        at += HEADER.size + length
    in_all = _(" ({count} bytes in all)").format(count=len(got)) if at != len(got) else ""
    return _("; then ").join(parts) + in_all


def ending(seen: dict[str, Any]) -> str:
    if seen["error"]:
        return seen["error"]
    if seen["ended"] == "overflow":
        return expect.stopped_reading(seen["received_bytes"])
    still = re.fullmatch(r"still open after (\d+) s", seen["ended"] or "")  # the probe's words
    if still:
        return _("still open after {seconds} s").format(seconds=still[1])
    return {"closed": _("then the server closed the connection"),
            "reset": _("then the server reset the connection")}.get(seen["ended"], seen["ended"])


def error_reply(seen: dict[str, Any], reason: str, what: str, evidence: str = "", *,
                before: bytes = b"") -> None:
    """The server answered ``before`` (replies to the whole frames sent first), then the E
    frame ``reason``, and closed the connection."""
    __tracebackhide__ = True
    got = bytes.fromhex(seen["received"])
    expected = before + frame(b"E", reason.encode())
    if got == expected and seen["ended"] in ("closed", "reset"):
        return
    if before:
        expected = _("{what}: the reply to the whole message first, then the error frame E {reason} "
                     "({hex}), then the server closing the connection")
    else:
        expected = _("{what}: the error frame E {reason} ({hex}), then the server closing the connection")
    expect.fail(expected.format(what=what, reason=repr(reason), hex=frame(b"E", reason.encode()).hex()),
                f"{describe(got)}; {ending(seen)}", evidence)


def closed_quietly(seen: dict[str, Any], what: str, evidence: str = "", *,
                   before: bytes = b"") -> None:
    """No reply to half a message (only ``before``, the replies to whole ones): the server
    just closed its side."""
    __tracebackhide__ = True
    got = bytes.fromhex(seen["received"])
    if got == before and seen["ended"] in ("closed", "reset"):
        return
    if before:
        expected = _("{what}: the reply to the whole message, then no reply (there is no whole message "
                     "to answer), and the server closing the connection")
    else:
        expected = _("{what}: no reply (there is no whole message to answer), and the server closing "
                     "the connection")
    expect.fail(expected.format(what=what), f"{describe(got)}; {ending(seen)}", evidence)


def short(texts: list[str]) -> str:
    return ", ".join(repr(t) if len(t) <= 40 else _("{start}... ({count} chars)").format(
        start=repr(t[:30]), count=len(t)) for t in texts) or _("nothing")


def client_sent(seen: dict[str, Any], messages: list[str], output: str) -> None:
    """The test server received ``messages`` as M frames of their UTF-8 bytes, in order
    (all of them, or those up to the one it answered with an error)."""
    __tracebackhide__ = True
    sent = [bytes.fromhex(m) for m in seen["messages"]]
    wanted = [m.encode() for m in messages]
    if sent == wanted[:len(sent)] and (len(sent) == len(wanted) or seen.get("sent_error")) \
            and not seen["error"]:
        return
    shown = [m.decode(errors="replace") for m in sent]
    wrong = next((i for i, (a, b) in enumerate(zip(sent, wanted, strict=False)) if a != b), None)
    detail = (_("; message {n} came as {size} bytes {text}, not its {utf8} UTF-8 bytes").format(
        n=wrong + 1, size=len(sent[wrong]), text=short([shown[wrong]]), utf8=len(wanted[wrong]))
        if wrong is not None else "")
    expect.fail(_("the client to send {count} M frames, each holding a message's UTF-8 bytes, in "
                  "order: {messages}").format(count=len(messages), messages=short(messages)),
                _("the test server received {count} messages{detail}").format(count=len(sent), detail=detail)
                + (f"; {seen['error']}" if seen["error"] else ""), output)


def lines(stdout: str) -> list[str]:
    """Standard output's lines (a final newline ends the last; ``\\r\\n`` is a newline)."""
    if not stdout:
        return []
    return [line.removesuffix("\r") for line in stdout.removesuffix("\n").split("\n")]


def printed(stdout: str, replies: list[str], output: str, why: str = "") -> None:
    """Standard output is the replies, one a line, in order, and nothing else."""
    __tracebackhide__ = True
    got = lines(stdout)
    if got == replies:
        return
    wrong = next((i for i, (a, b) in enumerate(zip(got, replies, strict=False)) if a != b),
                 min(len(got), len(replies)))
    if wrong < len(replies) and wrong < len(got):
        observed = _("line {n} is {got}, not {reply}").format(
            n=wrong + 1, got=short([got[wrong]]), reply=short([replies[wrong]]))
    elif wrong < len(replies):
        observed = _("{count} lines; reply {n} ({reply}) not printed").format(
            count=len(got), n=wrong + 1, reply=short([replies[wrong]]))
    else:
        observed = _("{count} more lines than replies: {lines}").format(
            count=len(got) - len(replies), lines=short(got[wrong:]))
    expect.fail(_("standard output to be the {count} replies the test server sent, one per line, in "
                  "order, and nothing else").format(count=len(replies)), observed + why, output)


def exited(code: int, wanted: int, timed_out: bool, output: str) -> None:
    __tracebackhide__ = True
    if code == wanted and not timed_out:
        return
    expect.fail(_("the client to exit with status {status}").format(status=wanted),
                _("the client did not exit (it was stopped)") if timed_out
                else _("exit status {code}").format(code=code), output)


def reported_error(stderr: str, reason: str, output: str) -> None:
    """A line ``error: REASON`` on standard error."""
    __tracebackhide__ = True
    if any(line.strip() == f"error: {reason}" for line in stderr.splitlines()):
        return
    expect.fail(_("the line 'error: {reason}' on standard error (the test server's E frame said "
                  "{said})").format(reason=reason, said=repr(reason)), _("no such line"), output)
