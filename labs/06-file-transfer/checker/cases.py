"""Lab 6's varied inputs and their judging, without I/O (unit-tested in tests/unit/).

Every input comes from a ``random.Random`` seeded with the run's seed, so a failure
replays: the names that try to leave the root, the sizes at common buffer boundaries,
the points where a command line or an upload is cut into pieces.
"""

from __future__ import annotations

import random
import re
from typing import Any

from socklab.checking import expect
from socklab.i18n import N_, _

# Sizes where programs break: one below, at and one above common buffer sizes.
BOUNDARIES = (1023, 1024, 1025, 4095, 4096, 4097, 8191, 8192, 8193, 65535, 65536, 65537)
# Sibling folders that share the root's name as a prefix: '/scratch/files-other' starts
# with '/scratch/files', so a check by string prefix lets them through.
SIBLING_SUFFIXES = ("-other", "2", ".old", "_backup", "-private", "~")
WORDS = ("résumé", "naïve", "文件", "データ", "ünïcödé", "½", "Ω", "smörgåsbord", "🙂")
PAUSE = 3.0  # seconds: "several": longer than the 1 or 2 s timeouts programs set on sockets


def sizes(rng: random.Random, count: int) -> list[int]:
    """``count`` different sizes at buffer boundaries."""
    return rng.sample(BOUNDARIES, count)


def utf8_name(rng: random.Random, suffix: str = ".txt") -> str:
    """A file name with multi-byte UTF-8 characters (more bytes than characters)."""
    words = rng.sample(WORDS, 2)
    return f"{words[0]}-{rng.randrange(1000):03d}-{words[1]}{suffix}"


def cuts(rng: random.Random, size: int, count: int) -> list[int]:
    """Up to ``count`` different byte offsets strictly inside ``size`` bytes."""
    inside = range(1, size)
    return sorted(rng.sample(inside, min(count, len(inside))))


def line_cuts(rng: random.Random, line: str) -> list[int]:
    """Cuts of a command line's UTF-8 bytes: one inside a multi-byte character if it has
    one, one just before the newline, and one anywhere."""
    data = line.encode()
    inside_char = [i for i in range(1, len(data)) if data[i] & 0xC0 == 0x80]
    chosen = {len(data) - 1, rng.randrange(1, len(data))}
    if inside_char:
        chosen.add(rng.choice(inside_char))
    return sorted(c for c in chosen if 0 < c < len(data))


def sibling(rng: random.Random, root: str) -> str:
    """A folder beside the root whose path starts with the root's path."""
    return root.rstrip("/") + rng.choice(SIBLING_SUFFIXES)


def refused_gets(rng: random.Random, root: str, beside: str, inner: str) -> list[str]:
    """Names GET must refuse (553), seeded: ways out of the root, and names with a '/'
    that would stay inside it. ``beside`` is a file in a sibling folder, relative to the
    root's parent ('files-other/secret.txt'); ``inner`` a file in a folder inside the
    root, relative to it ('sub/inner.bin')."""
    top = root.rstrip("/").rpartition("/")[2]
    folder = inner.partition("/")[0]
    out = [
        f"../{top}/../{beside}",                # '..' in the middle, back out
        f"{folder}/../../{beside}",             # into a folder, then out twice
        f"/{root.strip('/')}/../{beside}",      # absolute, through the root
        "../outside.txt", "../../etc/passwd", "/etc/passwd", "//etc/passwd",
        "./../outside.txt", f"{'../' * rng.randrange(3, 8)}etc/passwd",
    ]
    inside = [
        inner,                                  # inside the root, but not a plain name
        "./one.bin", f"{folder}/../one.bin", "one.bin/",
    ]
    # the sibling sharing the root's prefix always, then a seeded mix of the others; every
    # kind of name that is no plain one on every run (a check that misses one kind must
    # fail every run, not most): empty, '.', '..', and a NUL byte somewhere
    nul = rng.choice(("one.bin\0", "\0", "one\0.bin"))
    names = ["", ".", "..", nul, *rng.sample(out, 4), *rng.sample(inside, 2)]
    rng.shuffle(names)
    return [f"../{beside}", *names]


def refused_puts(rng: random.Random, root: str, beside_dir: str) -> list[tuple[str, str]]:
    """PUT names to refuse, each with the path where a wrong server would write it."""
    top = root.rstrip("/")
    parent = top.rpartition("/")[0]
    name = f"escaped-{rng.randrange(10 ** 6):06d}.bin"
    folder = beside_dir.rpartition("/")[2]
    cases = [
        (f"../{folder}/{name}", f"{beside_dir}/{name}"),
        (f"../{name}", f"{parent}/{name}"),
        (f"/tmp/{name}", f"/tmp/{name}"),
        (f"sub/{name}", f"{top}/sub/{name}"),
        (f"sub/../{name}", f"{top}/{name}"),
        (f"./{name}", f"{top}/{name}"),
    ]
    return [cases[0], *rng.sample(cases[1:], 3)]


def bad_sizes(rng: random.Random) -> list[str]:
    """PUT arguments without a proper size (the name first)."""
    name = f"bad-{rng.randrange(10 ** 6):06d}.bin"
    # one that int() would take ('+5', '-1', '1_000'), two that it would not,
    # and one of digits that are not 0-9, which str.isdigit() takes ('５' is even int()'s 5)
    sizes = [rng.choice(("+5", "-1", "1_000")), rng.choice(("５", "٣", "²")),
             *rng.sample(("abc", "12x", "1.5", "0x10", "5a"), 2)]
    rng.shuffle(sizes)
    return [name, *(f"{name} {size}" for size in sizes)]


def unknown_commands(rng: random.Random) -> list[str]:
    """Lines that are no command: unknown words, near misses, a 1024-byte line."""
    # not shown as prose: the commands sent to the server, quoted as they are
    near = rng.sample(("HELLO", "LISTING", "GETX one.bin", "get one.bin", "list", "QUITX",  # not shown
                       "PUTS x 1", "STOR one.bin", "Quit"), 9)  # not shown (all, in a seeded order)
    # the command is the line up to its first space: blanks around it are no part of a
    # command word ('.strip()' or '.split()' of the line takes them away)
    blank = rng.choice((" LIST", " QUIT", "\tLIST", "LIST\t", "QUIT\t", " GET one.bin"))  # not shown
    longest = "X" * 1023  # with its '\n', exactly the 1024 bytes a line may have
    return [*near, blank, longest]


# How the probe (socklab/probes/file_transfer.py) says a transfer ended, in the reader's words;
# an exception's text (ConnectionResetError: ...) stays as it is.
PROBE_WORDS = (
    (re.compile(r"nothing more from the server for (?P<seconds>\S+) s"),
     N_("nothing more from the server for {seconds} s")),
    (re.compile(r"nothing from the server for (?P<seconds>\S+) s"),
     N_("nothing from the server for {seconds} s")),
    (re.compile(r"the server closed the connection before the whole file"),
     N_("the server closed the connection before the whole file")),
    (re.compile(r"the server closed the connection before the whole body"),
     N_("the server closed the connection before the whole body")),
    (re.compile(r"no reply"), N_("no reply")),
)


def said(error: str) -> str:
    """The probe's ``error`` in the reader's language."""
    return expect.said(error, PROBE_WORDS)  # type: ignore[return-value]


def status_problem(reply: dict[str, Any] | None, want: str) -> str | None:
    """Why a reply is not the status line ``want`` (None if it is)."""
    if reply is None:
        return _("no reply (the connection ended)")
    if reply["status"] != want:
        return _("the reply {status}").format(status=repr(reply["status"]))
    return None


def file_problem(reply: dict[str, Any] | None, size: int, sha256: str) -> str | None:
    """Why a reply is not '200 OK <size>' followed by the file (None if it is)."""
    if (problem := status_problem(reply, f"200 OK {size}")) is not None:
        return problem
    assert reply is not None
    if reply.get("size") != size or reply.get("sha256") != sha256:
        return (_("{size} bytes with SHA-256 {sha256}").format(size=reply.get("size"),
                                                                sha256=reply.get("sha256"))
                + (f" ({said(reply['error'])})" if reply.get("error") else ""))
    return None
