"""Lab 4's judges: what the probe saw, against what the protocol says. No Docker here.

Each judge takes the probe's report (a dict) or a program's output and either returns or
fails with expected-vs-observed (``expect.fail``). They are unit-tested in
tests/unit/test_lab04_framing.py. The inputs the checks send are made here too, seeded.
"""

from __future__ import annotations

import random
import struct
from typing import Any

from socklab.checking import expect

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
    observed = f"{seen['complete_replies']} of {count} replies right"
    if diff < seen["received"] and seen["reply"] < count:
        observed += (f"; reply {seen['reply'] + 1} differs at its {seen['part']}: expected "
                     f"{seen['expected_at']}, got {seen['got_at']} (hex)")
    elif diff < seen["received"]:
        observed += f"; {seen['received'] - seen['expected']} bytes more than the replies"
    else:
        observed += (f"; reply {seen['reply'] + 1} stopped at its {seen['part']} "
                     f"({seen['received']} of {seen['expected']} reply bytes came back)")
    if "got_header" in seen:
        head = seen["got_header"]
        observed += f"; that reply's header says kind {head['kind']!r}, length {head['length']}"
        if "got_error" in seen:
            observed += f", error {seen['got_error']!r}"
    if seen.get("written", seen.get("stream", 0)) < seen.get("stream", 0):
        observed += f"; only {seen['written']} of {seen['stream']} bytes could be sent"
    if seen.get("overflow"):
        observed += f" ({expect.stopped_reading(seen['received'])})"
    elif seen["error"]:
        observed += f" ({seen['error']})"
    elif seen["peer_closed"]:
        observed += " (then the server closed the connection)"
    replies = "its reply, an M frame" if count == 1 else f"{count} replies, each an M frame"
    expect.fail(f"{what}: {replies} holding the message reversed", observed, evidence)


def describe(got: bytes) -> str:
    """Bytes from the server, read as frames where they can be."""
    if not got:
        return "no bytes"
    parts, at = [], 0
    while at < len(got) and len(parts) < 3:
        if len(got) - at < HEADER.size:
            parts.append(f"{len(got) - at} bytes ({got[at:].hex()}), less than a header")
            break
        kind, length = HEADER.unpack(got[at:at + HEADER.size])
        body = got[at + HEADER.size:at + HEADER.size + min(length, 64)]
        parts.append(f"a frame of kind {kind.decode('latin-1')!r}, length {length}, "
                     f"payload {body!r}")
        at += HEADER.size + length
    return "; then ".join(parts) + (f" ({len(got)} bytes in all)" if at != len(got) else "")


def ending(seen: dict[str, Any]) -> str:
    if seen["error"]:
        return seen["error"]
    if seen["ended"] == "overflow":
        return expect.stopped_reading(seen["received_bytes"])
    return {"closed": "then the server closed the connection",
            "reset": "then the server reset the connection"}.get(seen["ended"], seen["ended"])


def error_reply(seen: dict[str, Any], reason: str, what: str, evidence: str = "", *,
                before: bytes = b"") -> None:
    """The server answered ``before`` (replies to the whole frames sent first), then the E
    frame ``reason``, and closed the connection."""
    __tracebackhide__ = True
    got = bytes.fromhex(seen["received"])
    expected = before + frame(b"E", reason.encode())
    if got == expected and seen["ended"] in ("closed", "reset"):
        return
    replies = "the reply to the whole message first, then " if before else ""
    expect.fail(f"{what}: {replies}the error frame E {reason!r} "
                f"({frame(b'E', reason.encode()).hex()}), then the server closing the "
                "connection", f"{describe(got)}; {ending(seen)}", evidence)


def closed_quietly(seen: dict[str, Any], what: str, evidence: str = "", *,
                   before: bytes = b"") -> None:
    """No reply to half a message (only ``before``, the replies to whole ones): the server
    just closed its side."""
    __tracebackhide__ = True
    got = bytes.fromhex(seen["received"])
    if got == before and seen["ended"] in ("closed", "reset"):
        return
    first = "the reply to the whole message, then " if before else ""
    expect.fail(f"{what}: {first}no reply (there is no whole message to answer), and the "
                "server closing the connection", f"{describe(got)}; {ending(seen)}", evidence)


def short(texts: list[str]) -> str:
    return ", ".join(repr(t) if len(t) <= 40 else f"{t[:30]!r}... ({len(t)} chars)"
                     for t in texts) or "nothing"


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
    detail = (f"; message {wrong + 1} came as {len(sent[wrong])} bytes {short([shown[wrong]])}, "
              f"not its {len(wanted[wrong])} UTF-8 bytes" if wrong is not None else "")
    expect.fail(f"the client to send {len(messages)} M frames, each holding a message's UTF-8 "
                f"bytes, in order: {short(messages)}",
                f"the test server received {len(sent)} messages{detail}"
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
        observed = f"line {wrong + 1} is {short([got[wrong]])}, not {short([replies[wrong]])}"
    elif wrong < len(replies):
        observed = f"{len(got)} lines; reply {wrong + 1} ({short([replies[wrong]])}) not printed"
    else:
        observed = f"{len(got) - len(replies)} more lines than replies: {short(got[wrong:])}"
    expect.fail(f"standard output to be the {len(replies)} replies the test server sent, one "
                "per line, in order, and nothing else", observed + why, output)


def exited(code: int, wanted: int, timed_out: bool, output: str) -> None:
    __tracebackhide__ = True
    if code == wanted and not timed_out:
        return
    expect.fail(f"the client to exit with status {wanted}",
                "the client did not exit (it was stopped)" if timed_out
                else f"exit status {code}", output)


def reported_error(stderr: str, reason: str, output: str) -> None:
    """A line ``error: REASON`` on standard error."""
    __tracebackhide__ = True
    if any(line.strip() == f"error: {reason}" for line in stderr.splitlines()):
        return
    expect.fail(f"the line 'error: {reason}' on standard error (the test server's E frame "
                f"said {reason!r})", "no such line", output)
