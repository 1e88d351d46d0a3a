"""Lab 9 checker: two servers on Unix-domain sockets, judged by what a client observes.

Every client is socklab's Unix-socket probe, run in the server container (mostly as the
student user); the socket files themselves are examined with lstat() there. The checks
run in order: the last three stop and restart the servers.
"""

from __future__ import annotations

import random
import string
import time
from typing import Any

import pytest
import unix_probe

from socklab.checking import expect
from socklab.errors import PlatformError

NAMES = ("stream", "dgram")  # the programs, named for their socket type
LARGEST = 8192  # the largest datagram of the protocol
SECOND_GIVES_UP = 30.0  # seconds for a second server to see the live socket and exit
EXIT_WITHIN = 10.0  # seconds for a server to exit after SIGTERM
TEXT = string.ascii_letters + string.digits + " .,;:!?-_=+*/()[]{}<>'\"#%&@"


def line_answer(line: str) -> str:
    return f"{len(line.encode())} {line}\n"


def dgram_answer(message: str) -> str:
    return f"{len(message.encode())} {message}"


def words(rng: random.Random, size: int) -> str:
    return "".join(rng.choice(TEXT) for _ in range(size))


def short(text: str | None, limit: int = 60) -> str:
    if text is None:
        return "nothing"
    return repr(text) if len(text) <= limit else f"{text[:limit]!r}... ({len(text)} bytes)"


def first_difference(want: list[str], got: list[str]) -> int:
    pairs = enumerate(zip(want, got, strict=False))
    return next((i for i, (w, g) in pairs if w != g), min(len(want), len(got)))


def expect_lines(seen: dict[str, Any], lines: list[str], what: str) -> None:
    """The stream server answered each line with one answer line, in order."""
    __tracebackhide__ = True
    want = [line_answer(line) for line in lines]
    *complete, rest = seen["received"].split("\n")
    got = [line + "\n" for line in complete] + ([rest] if rest else [])
    if got == want:
        return
    i = first_difference(want, got)
    observed = f"{len(got)} answer lines for {len(lines)} lines sent"
    if i < len(want):
        got_i = got[i] if i < len(got) else None
        observed += f"; answer {i + 1}: expected {short(want[i])}, got {short(got_i)}"
    else:
        observed += f"; extra answer {short(got[i])}"
    if seen["error"]:
        observed += f" ({seen['error']})"
    elif seen["peer_closed"]:
        observed += " (then the server closed the connection)"
    expect.fail(f"{what}: one answer line per line sent, in order", observed)


def expect_replies(seen: dict[str, Any], client: str, messages: list[str], what: str) -> None:
    """The datagram server answered each of ``client``'s datagrams with one datagram, in order."""
    __tracebackhide__ = True
    if seen["error"]:
        expect.fail(f"{what}: the client's datagrams accepted", seen["error"])
    want = [dgram_answer(m) for m in messages]
    got = seen["clients"][client]["replies"]
    if got == want:
        return
    i = first_difference(want, got)
    observed = f"{len(got)} reply datagrams for {len(messages)} sent"
    if i < len(want):
        observed += (f"; reply {i + 1} (to {short(messages[i], 30)}): expected {short(want[i])}, "
                     f"got {short(got[i] if i < len(got) else None)}")
    else:
        observed += f"; an extra reply {short(got[i])}"
    expect.fail(f"{what}: one reply datagram per datagram, in order", observed)


def still_serves(servers, box: str, name: str, what: str) -> None:
    """One more exchange with the server: it still answers on its socket file."""
    __tracebackhide__ = True
    path = servers.path(name)
    if name == "stream":
        expect_lines(unix_probe.stream(box, path, ["still there?"]), ["still there?"], what)
    else:
        expect_replies(unix_probe.dgram(box, path, [("a", "still there?", "")]), "a",
                       ["still there?"], what)


@pytest.mark.points(1)
def test_socket_files(servers, box):
    """Both servers serve on their socket files: /scratch/stream.sock and /scratch/dgram.sock"""
    paths = [servers.ensure(name) for name in NAMES]
    for path, file in unix_probe.stat(box, *paths).items():
        if file.get("kind") != "socket":
            expect.fail(f"{path} to be a socket", unix_probe.describe(file))


@pytest.mark.points(2)
def test_socket_permissions(servers, box):
    """The socket files have mode 0660: the group may connect, other users may not"""
    paths = {name: servers.ensure(name) for name in NAMES}
    files = unix_probe.stat(box, *paths.values())
    problems = []
    for name, path in paths.items():
        if files[path].get("mode") != "0660":
            problems.append(f"{path} is {unix_probe.describe(files[path])}")
        member = unix_probe.connect(box, path, name, user=unix_probe.GROUP_MEMBER)
        if not member["connected"]:
            problems.append(f"a user in the group (uid 2000, gid 1000) could not connect to {path}: "
                            f"{member['error']}")
        outsider = unix_probe.connect(box, path, name, user=unix_probe.OUTSIDER)
        if outsider["connected"]:
            problems.append(f"a user outside the group (uid 3000, gid 3000) could connect to {path}")
    if problems:
        expect.fail("both socket files with mode 0660 (rw-rw----): the owner and the group may "
                    "connect, nobody else", "\n  ".join(["", *problems]))


@pytest.mark.points(1)
def test_stream_one_line(servers, box):
    """Stream: one line gets its answer, and the server closes when the client does"""
    line = "hello, unix"
    seen = unix_probe.stream(box, servers.ensure("stream"), [line], shutdown=True)
    expect_lines(seen, [line], "a one-line conversation")
    if not seen["peer_closed"]:
        expect.fail("the server to close the connection after the client closed its side",
                    f"it stayed open ({seen['error']})")


@pytest.mark.points(2)
def test_stream_one_byte_writes(servers, box, ctx):
    """Stream: lines sent one byte per send() get one answer each"""
    rng = random.Random(ctx.seed)
    lines = [words(rng, rng.randrange(5, 25)) for _ in range(3)]
    seen = unix_probe.stream(box, servers.ensure("stream"), lines, chunk=1, gap=0.002)
    expect_lines(seen, lines, "3 lines sent in 1-byte pieces")


@pytest.mark.points(2)
def test_stream_coalesced_lines(servers, box, ctx):
    """Stream: 20 lines sent in one send() get 20 answers (one line is empty)"""
    rng = random.Random(ctx.seed + 1)
    lines = [words(rng, rng.randrange(1, 300)) for _ in range(20)]
    lines[rng.randrange(1, 19)] = ""
    seen = unix_probe.stream(box, servers.ensure("stream"), lines)
    expect_lines(seen, lines, "20 lines sent in a single send()")


@pytest.mark.points(1)
def test_dgram_one_message(servers, box):
    """Datagram: one datagram gets one reply, sent to the client's own socket file"""
    seen = unix_probe.dgram(box, servers.ensure("dgram"), [("a", "hello, unix", "")])
    expect_replies(seen, "a", ["hello, unix"], "one datagram")


@pytest.mark.points(2)
def test_dgram_message_boundaries(servers, box, ctx):
    """Datagram: 6 datagrams sent at once, one of 8192 bytes, get one reply each"""
    rng = random.Random(ctx.seed + 2)
    messages = [words(rng, 10), "two\nlines", words(rng, LARGEST), words(rng, 1),
                "three\nmore\nlines", words(rng, 100)]
    seen = unix_probe.dgram(box, servers.ensure("dgram"), [("a", m, "") for m in messages])
    expect_replies(seen, "a", messages, "6 datagrams sent before reading any reply")
    if seen["clients"]["a"]["truncated"]:
        expect.fail("whole replies", f"{seen['clients']['a']['truncated']} truncated")


@pytest.mark.points(1)
def test_dgram_empty_message(servers, box):
    """Datagram: an empty datagram is a message, not an end-of-file: it gets the reply '0 '"""
    messages = ["", "still there?"]
    seen = unix_probe.dgram(box, servers.ensure("dgram"), [("a", m, "") for m in messages])
    expect_replies(seen, "a", messages, "an empty datagram, then another")


@pytest.mark.points(1)
def test_dgram_replies_to_each_sender(servers, box):
    """Datagram: two clients take turns; each gets the replies to its own datagrams"""
    plan = [("a", "from a, 1", ""), ("b", "from b, first", ""), ("a", "from a, 2", ""),
            ("b", "from b, second", "")]
    seen = unix_probe.dgram(box, servers.ensure("dgram"), plan)
    for client in ("a", "b"):
        expect_replies(seen, client, [m for c, m, _ in plan if c == client],
                       f"client {client}, taking turns with another")


@pytest.mark.points(1)
def test_dgram_sender_gone(servers, box, programs):
    """Datagram: a reply that cannot be delivered (the sender is gone) does not stop the server"""
    plan = [("gone", "nobody will read the reply", "vanished"), ("a", "next client", "")]
    seen = unix_probe.dgram(box, servers.ensure("dgram"), plan)
    if not programs.alive("dgram"):
        expect.fail("the server still running after a reply it could not deliver",
                    f"dgram_server.py exited (code {servers.exit_code('dgram')})")
    expect_replies(seen, "a", ["next client"], "the client after one whose socket file was removed")


@pytest.mark.points(2)
@pytest.mark.timeout(120)
def test_live_socket_not_stolen(servers, programs, box):
    """A second server started on a live socket file exits and leaves that file alone"""
    for name in NAMES:
        path = servers.ensure(name)
        before = unix_probe.stat(box, path)[path]
        second = programs.run(name, timeout=SECOND_GIVES_UP)
        output = f"the second {servers.file(name)}'s output:\n{second.stdout}{second.stderr}"
        if second.timed_out:
            expect.fail(f"a second {servers.file(name)}, started while the first serves on {path}, "
                        "to give up and exit", f"it was still running after {SECOND_GIVES_UP:g} s", output)
        after = unix_probe.stat(box, path)[path]
        if after.get("inode") != before["inode"]:
            expect.fail(f"{path} still the first server's socket file after a second server "
                        "gave up", f"it was replaced or removed: now {unix_probe.describe(after)}",
                        output)
        still_serves(servers, box, name, f"the first {servers.file(name)}, after a second one gave up")


@pytest.mark.points(2)
def test_stale_socket_file(servers, box):
    """A socket file left by a crashed run is replaced: the server starts and serves"""
    for name in NAMES:
        servers.stop(name)
    for name in NAMES:
        path = servers.path(name)
        left = unix_probe.stale(box, path, name)
        if left["connected"] or left["file"].get("kind") != "socket":
            raise PlatformError(f"the checker could not leave a stale socket file at {path}: {left}")
        servers.start(name, f"{servers.file(name)} to replace the stale socket file {path} (a socket "
                            "file nobody serves, left by a crashed run) and serve there")
        still_serves(servers, box, name, f"{servers.file(name)}, started over a stale socket file")


@pytest.mark.points(2)
def test_cleanup_on_sigterm(servers, programs, box):
    """On SIGTERM both servers exit and remove their socket files"""
    paths = {name: servers.ensure(name) for name in NAMES}
    for name in NAMES:
        argv = list(servers.lab.programs[name].argv)
        if not unix_probe.terminate(box, argv) and programs.alive(name):
            raise PlatformError(f"found no process {argv} to send SIGTERM to in {box}")
    deadline = time.monotonic() + EXIT_WITHIN
    while any(programs.alive(name) for name in NAMES) and time.monotonic() < deadline:
        time.sleep(0.05)
    files = unix_probe.stat(box, *paths.values())
    problems = []
    for name, path in paths.items():
        if programs.alive(name):
            problems.append(f"{servers.file(name)} still running {EXIT_WITHIN:g} s after SIGTERM")
        if files[path]["exists"] is not False:
            problems.append(f"{path} left behind: {unix_probe.describe(files[path])}")
    if problems:
        expect.fail("both servers to exit on SIGTERM and remove their socket files",
                    "\n  ".join(["", *problems]))
