"""What lab 9's checks send, drawn from the run's seed, and how the answers are judged.

Pure: no sockets, no containers. Lines and datagrams are bytes; the probe carries them as
latin-1 text (one character per byte), and so do the results it reports.
"""

from __future__ import annotations

import random
import re
import string
from typing import Any

from socklab.checking import expect
from socklab.i18n import N_, _

LARGEST = 8192  # the largest datagram of the protocol (R7)
LONGEST_LINE = 100_000  # the longest line of the protocol (R5)
BOUNDARIES = (1024, 4096, 8192, 65536)  # common buffer sizes
TEXT = string.ascii_letters + string.digits + " .,;:!?-_=+*/()[]{}<>'\"#%&@"
UNICODE = "éüßñçøλжщ中文字節符號你好🙂🚀𝄞"


def line_answer(line: bytes) -> bytes:
    return f"{len(line)} ".encode() + line + b"\n"


def dgram_answer(message: bytes) -> bytes:
    return f"{len(message)} ".encode() + message


def generated(size: int, seed: int) -> bytes:
    """A seeded line of printable ASCII; the probe makes the same from ``gen:SIZE:SEED``."""
    return bytes(0x21 + b % 94 for b in random.Random(seed).randbytes(size))


class Generated(bytes):
    """A line too long for the probe's command line: sent as its recipe, ``gen:SIZE:SEED``."""

    spec: str

    def __new__(cls, size: int, seed: int) -> Generated:
        line = super().__new__(cls, generated(size, seed))
        line.spec = f"gen:{size}:{seed}"
        return line


def words(rng: random.Random, size: int) -> bytes:
    """About ``size`` bytes of printable ASCII and multi-byte UTF-8 (never a newline)."""
    out = bytearray()
    while len(out) < size:
        out += (rng.choice(UNICODE) if rng.random() < 0.25 else rng.choice(TEXT)).encode()
    return bytes(out)


def odd_lines(rng: random.Random) -> list[bytes]:
    """Lines a careless server changes: not UTF-8, a carriage return, spaces at the ends."""
    latin = bytes(rng.choice(range(0x80, 0x100)) for _ in range(rng.randrange(3, 9)))
    return [b"caf\xe9 " + latin, words(rng, 12) + b"\r", b"  " + words(rng, 8) + b"  ", b"\t"]


def near(rng: random.Random, boundary: int) -> int:
    return boundary + rng.choice((-1, 0, 1))


def utf8_cuts(rng: random.Random, data: bytes, count: int) -> list[int]:
    """``count`` random cut offsets in ``data``, one of them inside a multi-byte character."""
    inside = [i for i in range(1, len(data)) if data[i] & 0xC0 == 0x80]
    chosen = set(rng.sample(range(1, len(data)), min(count, len(data) - 1)))
    if inside:
        chosen.add(rng.choice(inside))
    return sorted(chosen)


def latin(data: bytes) -> str:
    """Bytes as the probe carries them."""
    return data.decode("latin-1")


def show(data: bytes | None, limit: int = 60) -> str:
    if data is None:
        return _("nothing")
    if len(data) <= limit:
        return repr(data)
    return _("{start}... ({count} bytes)").format(start=repr(data[:limit]), count=len(data))


def first_difference(want: list[bytes], got: list[bytes]) -> int:
    pairs = enumerate(zip(want, got, strict=False))
    return next((i for i, (w, g) in pairs if w != g), min(len(want), len(got)))


def lines_problem(received: bytes, lines: list[bytes]) -> str | None:
    """What is wrong with the stream server's answers to ``lines`` (None: nothing)."""
    want = [line_answer(line) for line in lines]
    *complete, rest = received.split(b"\n")
    got = [line + b"\n" for line in complete] + ([rest] if rest else [])
    if got == want:
        return None
    i = first_difference(want, got)
    observed = _("{got} answer lines for {sent} lines sent").format(got=len(got), sent=len(lines))
    if i < len(want):
        got_i = got[i] if i < len(got) else None
        observed += _("; answer {n}: expected {want}, got {got}").format(n=i + 1, want=show(want[i]),
                                                                         got=show(got_i))
    else:
        observed += _("; an extra answer {got}").format(got=show(got[i]))
    return observed


def replies_problem(got: list[bytes], messages: list[bytes]) -> str | None:
    """What is wrong with the datagram server's replies to one client (None: nothing)."""
    want = [dgram_answer(m) for m in messages]
    if got == want:
        return None
    i = first_difference(want, got)
    observed = _("{got} reply datagrams for {sent} sent").format(got=len(got), sent=len(messages))
    if i < len(want):
        observed += _("; reply {n} (to {message}): expected {want}, got {got}").format(
            n=i + 1, message=show(messages[i], 30), want=show(want[i]),
            got=show(got[i] if i < len(got) else None))
    else:
        observed += _("; an extra reply {got}").format(got=show(got[i]))
    return observed


def boundary_datagrams(seed: int) -> list[bytes]:
    """Datagrams kept whole or cut where programs break: around 1024 and 4096 bytes, exactly
    the largest (8192) and one below, newlines inside, not UTF-8, multi-byte UTF-8."""
    rng = random.Random(seed)
    sized = [words(rng, near(rng, 1024) + 8)[:near(rng, 1024)],
             rng.randbytes(near(rng, 4096)), words(rng, LARGEST + 8)[:LARGEST],
             rng.randbytes(LARGEST - 1)]
    plain = [words(rng, 10) + " 数据报 🙂".encode(), b"two\nlines", b"three\nmore\nlines\n",  # not shown
             words(rng, 1)[:1], *odd_lines(rng)[:2]]
    messages = sized + plain
    rng.shuffle(messages)
    return messages


def split_lines(seed: int) -> tuple[list[bytes], list[int], list[float]]:
    """Lines for the stream server with a long one (around 8192 or 65536 bytes) and one of
    the longest (100 000 bytes or one less), cut at random points (one inside a UTF-8
    character), one pause over two seconds: (lines, cuts, pauses)."""
    rng = random.Random(seed)
    size = near(rng, rng.choice(BOUNDARIES[2:]))
    lines = [words(rng, rng.randrange(1, 40)) for _ in range(4)] + odd_lines(rng)
    lines.insert(rng.randrange(len(lines)), words(rng, size + 8)[:size])
    lines.insert(rng.randrange(len(lines)), Generated(LONGEST_LINE - rng.randrange(2), seed))
    data = b"".join(line + b"\n" for line in lines)
    cuts = utf8_cuts(rng, data, rng.randrange(4, 8))
    gaps = [round(rng.uniform(0.02, 0.15), 3) for _ in cuts]
    # one long pause: longer than the 1 or 2 s timeouts programs set on their sockets
    gaps[rng.randrange(len(gaps))] = round(rng.uniform(2.5, 2.8), 3)
    return lines, cuts, gaps


# How the probe (socklab/probes/unix.py) says an exchange ended, in the reader's words; an
# exception's text (ConnectionRefusedError (...)) stays as it is.
PROBE_WORDS = (
    (re.compile(r"timed out after (?P<seconds>\S+) s"), N_("timed out after {seconds} s")),
    (re.compile(r"sending timed out after (?P<seconds>\S+) s \(the server is not reading\)"),
     N_("sending timed out after {seconds} s (the server is not reading)")),
    (re.compile(r"a datagram to (?P<path>\S+) was refused: (?P<error>.*)", re.S),
     N_("a datagram to {path} was refused: {error}")),
)


def said(error: str | None) -> str | None:
    """The probe's ``error`` in the reader's language."""
    return expect.said(error, PROBE_WORDS)  # type: ignore[return-value]


KINDS = {  # the probe's words for a file's kind (socklab/probes/unix.py), as the reader reads them
    "socket": N_("a socket"),
    "regular file": N_("a regular file"),
    "directory": N_("a directory"),
    "symbolic link": N_("a symbolic link"),
    "named pipe": N_("a named pipe"),
    "other": N_("a file of another kind"),
}


def describe_file(file: dict[str, Any]) -> str:
    """A stat result (the probe's) in words, for evidence."""
    if file.get("exists") is False:
        return _("no such file")
    if file.get("exists") is None:
        return _("cannot be examined ({error})").format(error=file.get("error"))
    kind = _(KINDS[file["kind"]]) if file["kind"] in KINDS else file["kind"]
    text = _("{kind}, mode {mode}, owner uid {uid} gid {gid}").format(
        kind=kind, mode=file["mode"], uid=file["uid"], gid=file["gid"])
    if "target" in file:
        text += _(", pointing to {target}").format(target=file["target"])
    return text


def unchanged(before: dict[str, Any], after: dict[str, Any]) -> str | None:
    """How a file left alone was changed after all (None: it was not)."""
    if after.get("exists") is not True:
        return _("it is gone: {file}").format(file=describe_file(after))
    for key, what in (("inode", N_("replaced by another file")), ("kind", N_("a different kind")),
                      ("mode", N_("its mode changed")), ("sha256", N_("its contents changed")),
                      ("target", N_("it points elsewhere"))):
        if before.get(key) != after.get(key):
            return _("{change}: now {file}").format(change=_(what), file=describe_file(after))
    return None
