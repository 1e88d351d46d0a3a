"""Lab 7's varied inputs and the judging of an answer's framing, without I/O.

Unit-tested in tests/unit/test_lab07_http.py. Every input comes from a
``random.Random`` seeded with the run's seed, so that a failure replays.
"""

from __future__ import annotations

import random
import re
from typing import Any

from socklab.checking import expect
from socklab.i18n import N_, _

# The HTTP probe's fixed phrases (socklab/probes/http_probe.py, in English in the
# container), as the reader reads them (expect.said)
PROBE_WORDS = (
    (re.compile(r"no complete head \(no CRLF CRLF\)"), N_("no complete head (no CRLF CRLF)")),
    (re.compile(r"no bytes at all"), N_("no bytes at all")),
    (re.compile(r"no more bytes for (?P<seconds>\S+) s and the connection still open"),
     N_("no more bytes for {seconds} s and the connection still open")),
    (re.compile(r"the answer was still coming (?P<seconds>\S+) s later, and the connection still open"),
     N_("the answer was still coming {seconds} s later, and the connection still open")),
    (re.compile(r"the whole answer came, and the connection was still open (?P<seconds>\S+) s later"),
     N_("the whole answer came, and the connection was still open {seconds} s later")),
    (re.compile(r"sending the rest: (?P<error>.*)", re.S), N_("sending the rest: {error}")),
)


def said(text: str | None) -> str | None:
    """The probe's ``text`` in the reader's language."""
    return expect.said(text, PROBE_WORDS)

# the reason phrases are protocol tokens, quoted as they are in the messages
REASONS = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found",
           405: "Method Not Allowed",  # not shown as prose: a protocol token
           431: "Request Header Fields Too Large",  # not shown as prose: a protocol token
           501: "Not Implemented"}
PAUSE = 1.2  # seconds: longer than a second, where a program with a 1 s timeout gives up
LONG_PAUSE = 3.2  # seconds: "several seconds" (R2), past a 2 or 3 s read timeout
SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~/")


def name_case(rng: random.Random, name: str) -> str:
    """A header name in a seeded case: as usual, lower, upper or mixed."""
    how = rng.choice(("title", "lower", "upper", "mixed"))
    if how == "lower":
        return name.lower()
    if how == "upper":
        return name.upper()
    if how == "mixed":
        return "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in name)
    return name


def connection_header(rng: random.Random) -> str | None:
    """What a request says of its connection: nothing (HTTP/1.1 keeps it open), keep-alive, close."""
    return rng.choice((None, "keep-alive", "Keep-Alive", "close"))


def token_name(rng: random.Random) -> str:
    """A header name that is a token with more than letters, digits and '-' in it."""
    punct = rng.choice("!#$%&'*+.^_`|~")
    return rng.choice(("X", "x", "Ext")) + punct + rng.choice(("Trace", "id", "A1", "Z")) + \
        rng.choice(("", "-Id", "_2"))


def header_value(rng: random.Random) -> str:
    """A header value to ignore: words, inner spaces, perhaps empty."""
    return rng.choice(("", "1", "a b", "x=1; y=2", "  padded\t", "\t"))


def percent(rng: random.Random, path: str, share: float = 0.4) -> str:
    """``path`` (already a valid target, %XX escapes and all) with a seeded share of its
    plain characters spelt %XX, in upper- or lower-case hex; a '/' may become %2F."""
    out, escape = [], 0  # escape: how many characters of an existing %XX are still to come
    for char in path:
        if char == "%":
            escape = 2
        elif escape:
            escape -= 1
        elif char in SAFE and rng.random() < share and (char != "/" or out):
            code = f"{ord(char):02X}"
            out.append("%" + (code.lower() if rng.random() < 0.5 else code))
            continue
        out.append(char)
    return "".join(out)


QUERIES = ("x=1", "a=1&b=%2e%2e", "p=../../secret.txt", "q=%zz", "", "v=%00", "s=a+b&t=/..",
           "?", "a?b=c?d", "r=%2F%3F%23", "#frag", "x=caf%C3%A9&y=%E9")


def query(rng: random.Random) -> str:
    """A query string to be ignored, with what a path must not have: '..', bad escapes, '?'."""
    return "?" + rng.choice(QUERIES)


def queries(rng: random.Random, count: int) -> list[str]:
    """``count`` query strings, every one of QUERIES among them (once there are enough)."""
    pool = list(QUERIES)
    rng.shuffle(pool)
    return ["?" + q for q in (pool + [rng.choice(QUERIES) for _ in range(count)])[:count]]


def traversals(rng: random.Random, beside: str) -> list[str]:
    """Targets that lead out of the web root. ``beside`` is a folder next to the root that
    shares its name as a prefix ('www-old'): a check by string prefix lets it through."""
    dots = rng.choice(("..", "%2e%2e", "%2E%2E", ".%2e", "%2e."))
    sep = rng.choice(("/", "%2f", "%2F"))
    pool = [f"/..{sep}{beside}/secret.txt", f"/{dots}/{beside}/secret.txt",
            f"/docs/..{sep}..{sep}{beside}/secret.txt",
            f"/docs/{dots}/{dots}/secret.txt", f"/{dots}{sep}secret.txt",
            f"/images/..{sep}..{sep}..{sep}..{sep}etc/passwd", "//scratch/secret.txt",
            f"//scratch/{beside}/secret.txt", f"/./{dots}/secret.txt",
            f"/docs//{dots}//{dots}/secret.txt"]
    # a '..' segment refused even when the path it spells stays inside the root (R16)
    inside = [f"/docs/{dots}/notes.txt", f"/images/..{sep}index.html", f"/docs/{dots}{sep}docs/",
              f"/data/{dots}/images/..{sep}notes.txt"]
    return [f"/../{beside}/secret.txt", *rng.sample(pool, 5), rng.choice(inside)]


def split_points(rng: random.Random, size: int, count: int) -> list[int]:
    """``count`` different offsets strictly inside ``size`` bytes, sorted."""
    return sorted(rng.sample(range(1, size), min(count, size - 1)))


def framing_problems(answer: dict[str, Any], head_only: bool = False) -> list[str]:
    """What breaks R3/R4 in an answer as the probe saw it (an empty list if nothing)."""
    if answer.get("status") is None:
        why = said(answer.get("problem") or answer.get("error")) or _("nothing came")
        return [_("no answer ({why})").format(why=why)]
    problems = []
    status, reason = answer["status"], answer.get("reason", "")
    if answer.get("version") != "HTTP/1.1":
        problems.append(_("the status line {line} (not HTTP/1.1)").format(
            line=repr(answer.get("status_line"))))
    elif status in REASONS and reason.lower() != REASONS[status].lower():
        problems.append(_("the status line {line} (its reason phrase is {reason})").format(
            line=repr(answer.get("status_line")), reason=repr(REASONS[status])))
    headers = answer.get("headers", {})
    if len(headers.get("content-type", [])) != 1:
        # never one: 0, 2 or more
        problems.append(_("{count} Content-Type headers").format(count=len(headers.get("content-type", []))))
    lengths = headers.get("content-length", [])
    if len(lengths) != 1 or not lengths[0].isdigit():
        problems.append(_("the Content-Length headers {lengths}").format(lengths=lengths))
    elif not head_only and int(lengths[0]) != answer["body_size"] - answer.get("after", 0):
        problems.append(_("'Content-Length: {length}' but {size} bytes of body").format(
            length=lengths[0], size=answer["body_size"]))
    tokens = {t.strip().lower() for v in headers.get("connection", []) for t in v.split(",")}
    if "close" not in tokens:
        problems.append(_("the Connection headers {values} (not 'close')").format(
            values=headers.get("connection", [])))
    if answer.get("after") and head_only:
        problems.append(_("{count} bytes after the head of an answer to HEAD, which has none: a body, "
                          "or the answer to a second request sent on the connection (starting "
                          "{start})").format(count=answer["after"],
                                             start=repr(answer.get("after_start", "")[:40])))
    elif answer.get("after"):
        problems.append(_("the connection still open after the answer: a second request sent on "
                          "it was answered too ({count} more bytes, starting {start})").format(
            count=answer["after"], start=repr(answer.get("after_start", "")[:40])))
    elif not answer.get("closed"):
        problems.append(said(answer.get("error")) or _("the connection left open"))
    return problems
