"""Lab 9 checker: two servers on Unix-domain sockets, judged by what a client observes.

Every client is socklab's Unix-socket probe, run in the server container (mostly as the
student user); the socket files themselves are examined with lstat() there. The checks
run in order: the last four stop and restart the servers. What they send is drawn from
the run's seed (cases.py).
"""

from __future__ import annotations

import random
import shlex
import time

import cases
import pytest
import unix_probe

from socklab.checking import expect
from socklab.errors import PlatformError
from socklab.i18n import N_, _

NAMES = ("stream", "dgram")  # the programs, named for their socket type
OTHER = {"stream": "dgram", "dgram": "stream"}
GIVES_UP_WITHIN = 10.0  # seconds for a server to see it must not take the path, and exit (R3)
EXIT_WITHIN = 10.0  # seconds for a server to exit after SIGTERM (R9)


def expect_lines(seen, lines: list[bytes], what: str) -> None:
    """The stream server answered each line with one answer line, in order."""
    __tracebackhide__ = True
    problem = cases.lines_problem(seen["received"], lines)
    if problem is None:
        return
    if seen["error"]:
        problem += f" ({cases.said(seen['error'])})"
    elif seen["peer_closed"]:
        problem += _(" (then the server closed the connection)")
    expect.fail(_("{what}: one answer line per line sent, in order").format(what=what), problem)


def expect_replies(seen, client: str, messages: list[bytes], what: str) -> None:
    """The datagram server answered each of ``client``'s datagrams with one datagram, in order."""
    __tracebackhide__ = True
    if seen["error"]:
        expect.fail(_("{what}: the client's datagrams accepted").format(what=what), cases.said(seen["error"]))
    problem = cases.replies_problem(seen["clients"][client]["replies"], messages)
    if problem is not None:
        expect.fail(_("{what}: one reply datagram per datagram, in order").format(what=what), problem)
    if seen["clients"][client]["truncated"]:
        expect.fail(_("{what}: whole replies").format(what=what),
                    _("{count} truncated").format(count=seen["clients"][client]["truncated"]))


def still_serves(servers, box: str, name: str, what: str) -> None:
    """One more exchange with the server: it still answers on its socket file."""
    __tracebackhide__ = True
    path = servers.path(name)
    if name == "stream":
        expect_lines(unix_probe.stream(box, path, [b"still there?"]), [b"still there?"], what)
    else:
        expect_replies(unix_probe.dgram(box, path, [("a", b"still there?", "")]), "a",
                       [b"still there?"], what)


def kept_running(servers, programs, name: str, start: int, after: str) -> None:
    """The server is the same process that served before (R1): it did not exit meanwhile."""
    __tracebackhide__ = True
    if not programs.alive(name) or programs.starts[name] != start:
        expect.fail(_("{program} to keep serving, in the same process, after {after}").format(
                        program=servers.file(name), after=after),
                    _("it exited (code {code})").format(code=servers.exit_code(name)))


@pytest.mark.points(1)
@pytest.mark.rules("R1")
def test_socket_files(servers, box):
    """Both servers serve on their socket files: /scratch/stream.sock and /scratch/dgram.sock"""
    paths = [servers.ensure(name) for name in NAMES]
    for path, file in unix_probe.stat(box, *paths).items():
        if file.get("kind") != "socket":
            expect.fail(_("{path} to be a socket").format(path=path), unix_probe.describe(file))


@pytest.mark.points(1)
@pytest.mark.rules("R1")
def test_socket_path_given(servers, programs, box, ctx):
    """Each server given another PATH serves there, and only there"""
    rng = random.Random(ctx.seed + 11)
    for name in NAMES:
        servers.stop(name)
        usual = servers.path(name)
        given = f"/scratch/given-{rng.randrange(16**6):06x}-{name}.sock"
        unix_probe.clear(box, usual, given)
        argv = [*servers.lab.programs[name].argv[:-1], given]
        programs.start(name, argv=argv)
        try:
            command = shlex.join(argv[1:])
            servers.wait(name, _("`{command}` to serve on {path}").format(command=command, path=given),
                         path=given)
            where = _("{program} on {path}").format(program=servers.file(name), path=given)
            if name == "stream":
                expect_lines(unix_probe.stream(box, given, [b"given path"]), [b"given path"], where)
            else:
                expect_replies(unix_probe.dgram(box, given, [("a", b"given path", "")]), "a",
                               [b"given path"], where)
            found = unix_probe.stat(box, usual)[usual]
            if found.get("exists") is not False:
                expect.fail(_("`{command}` to bind {path} only").format(command=command, path=given),
                            _("{path} is there too: {file}").format(path=usual,
                                                                    file=unix_probe.describe(found)))
        finally:
            servers.stop(name)
            unix_probe.clear(box, usual, given)


@pytest.mark.points(2)
@pytest.mark.rules("R4")
def test_socket_permissions(servers, box):
    """The socket files have mode 0660: the group may connect, other users may not"""
    paths = {name: servers.ensure(name) for name in NAMES}
    files = unix_probe.stat(box, *paths.values())
    problems = []
    for name, path in paths.items():
        if files[path].get("mode") != "0660":
            problems.append(_("{path} is {file}").format(path=path, file=unix_probe.describe(files[path])))
        member = unix_probe.connect(box, path, name, user=unix_probe.GROUP_MEMBER)
        if not member["connected"]:
            problems.append(_("a user in the group (uid 2000, gid 1000) could not connect to {path}: "
                              "{error}").format(path=path, error=member["error"]))
        outsider = unix_probe.connect(box, path, name, user=unix_probe.OUTSIDER)
        if outsider["connected"]:
            problems.append(_("a user outside the group (uid 3000, gid 3000) could connect to "
                              "{path}").format(path=path))
    if problems:
        expect.fail(_("both socket files with mode 0660 (rw-rw----): the owner and the group may "
                      "connect, nobody else"), "\n  ".join(["", *problems]))


@pytest.mark.points(1)
@pytest.mark.rules("R6", "R1")
def test_stream_one_line(servers, programs, box, ctx):
    """Stream: lines get their answers, an unfinished last one none, and the server closes
    when the client does"""
    rng = random.Random(ctx.seed + 5)
    lines = [cases.words(rng, rng.randrange(5, 30)) for _ in range(rng.randrange(1, 4))]
    tail = cases.words(rng, rng.randrange(1, 20))
    path = servers.ensure("stream")
    start = programs.starts["stream"]
    seen = unix_probe.stream(box, path, lines, tail=tail, shutdown=True)
    expect_lines(seen, lines, _("{count} line(s) and an unfinished one ({tail}), then the client's end "
                                "(shutdown)").format(count=len(lines), tail=cases.show(tail)))
    if not seen["peer_closed"]:
        expect.fail(_("the server to close the connection after the client closed its side"),
                    _("it stayed open ({error})").format(error=cases.said(seen["error"])))
    kept_running(servers, programs, "stream", start, _("a client closed its side"))
    still_serves(servers, box, "stream", _("the next client, after one that closed its side"))


@pytest.mark.points(2)
@pytest.mark.rules("R5")
def test_stream_one_byte_writes(servers, box, ctx):
    """Stream: lines sent one byte per send() get one answer each"""
    rng = random.Random(ctx.seed)
    lines = [cases.words(rng, rng.randrange(5, 25)) for _ in range(2)] + cases.odd_lines(rng)[:2]
    rng.shuffle(lines)
    seen = unix_probe.stream(box, servers.ensure("stream"), lines, chunk=1, gap=0.002)
    expect_lines(seen, lines, _("{count} lines (multi-byte UTF-8, not UTF-8, a \\r) sent in 1-byte "
                                "pieces").format(count=len(lines)))


@pytest.mark.points(2)
@pytest.mark.rules("R5")
def test_stream_coalesced_lines(servers, box, ctx):
    """Stream: 20 lines sent in one send() get 20 answers (one line is empty)"""
    rng = random.Random(ctx.seed + 1)
    lines = [cases.words(rng, rng.randrange(1, 300)) for _ in range(20)]
    lines[rng.randrange(1, 19)] = b""
    seen = unix_probe.stream(box, servers.ensure("stream"), lines)
    expect_lines(seen, lines, _("20 lines sent in a single send()"))


@pytest.mark.points(2)
@pytest.mark.rules("R5", "R1")
def test_stream_split_lines(servers, programs, box, ctx):
    """Stream: a long line and others, cut anywhere, one pause of over 2 s, get their answers"""
    lines, cuts, gaps = cases.split_lines(ctx.seed + 6)
    path = servers.ensure("stream")
    start = programs.starts["stream"]
    seen = unix_probe.stream(box, path, lines, cuts=cuts, gaps=gaps)
    expect_lines(seen, lines, _("{count} lines, one of {longest} bytes, cut in {pieces} pieces (one cut "
                                "inside a UTF-8 character, one pause of {pause:.1f} s)").format(
                     count=len(lines), longest=max(map(len, lines)), pieces=len(cuts) + 1,
                     pause=max(gaps)))
    kept_running(servers, programs, "stream", start, _("a slow client"))


@pytest.mark.points(1)
@pytest.mark.rules("R1", "R6")
def test_stream_client_gone(servers, programs, box):
    """Stream: a client that closes without reading its answers does not stop the server"""
    path = servers.ensure("stream")
    start = programs.starts["stream"]
    seen = unix_probe.jam(box, path)
    if seen.get("error"):  # the server closed a connection whose client was still sending
        expect.fail(_("the server to read lines and answer them until the client closes"),
                    _("the connection failed after {sent} bytes of lines: {error}").format(
                        sent=seen["sent"], error=seen["error"]))
    if not seen["jammed"]:  # a server that answers has its answers fill the connection
        expect.fail(_("the server to answer each line as it reads it (the answers, never read, "
                      "fill the connection and the server waits)"),
                    _("it read {sent} bytes of lines and never stopped: no answers filled the "
                      "connection").format(sent=seen["sent"]))
    # the server's blocked send() fails now: it must go on to the next client
    still_serves(servers, box, "stream", _("the next client, after one that closed without reading its "
                                           "answers"))
    kept_running(servers, programs, "stream", start, _("a client that sent lines, never read the "
                                                       "answers (the server blocked sending them) and "
                                                       "closed ({sent} bytes)").format(sent=seen["sent"]))


@pytest.mark.points(1)
@pytest.mark.rules("R7")
def test_dgram_one_message(servers, box):
    """Datagram: one datagram gets one reply, sent to the client's own socket file"""
    seen = unix_probe.dgram(box, servers.ensure("dgram"), [("a", b"hello, unix", "")])
    expect_replies(seen, "a", [b"hello, unix"], _("one datagram"))


@pytest.mark.points(2)
@pytest.mark.rules("R7")
def test_dgram_message_boundaries(servers, box, ctx):
    """Datagram: datagrams sent at once, up to 8192 bytes, get one whole reply each"""
    messages = cases.boundary_datagrams(ctx.seed + 2)
    seen = unix_probe.dgram(box, servers.ensure("dgram"), [("a", m, "") for m in messages])
    sizes = ", ".join(str(len(m)) for m in messages)
    expect_replies(seen, "a", messages, _("{count} datagrams of {sizes} bytes (newlines inside, not "
                                          "UTF-8, multi-byte UTF-8) sent before reading any "
                                          "reply").format(count=len(messages), sizes=sizes))


@pytest.mark.points(1)
@pytest.mark.rules("R7")
def test_dgram_empty_message(servers, box):
    """Datagram: an empty datagram is a message, not an end-of-file: it gets the reply '0 '"""
    messages = [b"", b"still there?"]
    seen = unix_probe.dgram(box, servers.ensure("dgram"), [("a", m, "") for m in messages])
    expect_replies(seen, "a", messages, _("an empty datagram, then another"))


@pytest.mark.points(1)
@pytest.mark.rules("R7")
def test_dgram_replies_to_each_sender(servers, box):
    """Datagram: two clients take turns; each gets the replies to its own datagrams"""
    plan = [("a", b"from a, 1", ""), ("b", b"from b, first", ""), ("a", b"from a, 2", ""),
            ("b", b"from b, second", "")]
    seen = unix_probe.dgram(box, servers.ensure("dgram"), plan)
    for client in ("a", "b"):
        expect_replies(seen, client, [m for c, m, _how in plan if c == client],
                       _("client {client}, taking turns with another").format(client=client))


@pytest.mark.points(2)
@pytest.mark.rules("R8", "R1")
def test_dgram_sender_gone(servers, box, programs):
    """Datagram: replies that cannot be delivered (sender gone, stale or unbound) are skipped"""
    for how, why in (("vanished", _("whose socket file was removed (FileNotFoundError)")),
                     ("stale", _("whose socket file nobody serves any more (ConnectionRefusedError)")),
                     ("unbound", _("that bound no path (no address to reply to)"))):
        path = servers.ensure("dgram")
        start = programs.starts["dgram"]
        seen = unix_probe.dgram(box, path, [(how, b"nobody will read the reply", how),
                                            ("a", b"next client", "")])
        kept_running(servers, programs, "dgram", start, _("a datagram from a client {why}").format(why=why))
        expect_replies(seen, "a", [b"next client"], _("the client after one {why}").format(why=why))


def gives_up(servers, programs, box, name: str, what: str, check_after=None, before=None) -> None:
    """Start a copy of the server while ``what`` is at its path (``before``: its stat): it
    must exit with a non-zero status and leave the file as it was (R3), removing nothing (R9)."""
    __tracebackhide__ = True
    path = servers.path(name)
    before = before or unix_probe.stat(box, path)[path]
    run = programs.run(name, timeout=GIVES_UP_WITHIN)
    output = (_("{program}'s output:").format(program=servers.file(name)) + "\n"
              + ((run.stdout + run.stderr).strip() or _("(nothing)")))
    after = unix_probe.stat(box, path)[path]
    expected = _("{program}, started while {path} is {what}, to exit with a non-zero status and leave "
                 "the file as it was").format(program=servers.file(name), path=path, what=what)
    if (changed := cases.unchanged(before, after)) is not None:
        expect.fail(expected, _("{path} was not left alone: {changed}").format(path=path, changed=changed),
                    output)
    if run.timed_out:
        expect.fail(expected, _("it was still running after {seconds:g} s").format(seconds=GIVES_UP_WITHIN),
                    output)
    if run.returncode == 0:
        expect.fail(expected, _("it exited with status 0 (a program that could not do its job says so "
                                "with a non-zero status)"), output)
    if check_after is not None:
        check_after()


@pytest.mark.points(2)
@pytest.mark.rules("R3", "R9")
@pytest.mark.timeout(120)
def test_live_socket_not_stolen(servers, programs, box):
    """A second server started on a live socket file exits (non-zero) and leaves that file alone"""
    for name in NAMES:
        servers.ensure(name)
        gives_up(servers, programs, box, name,
                 _("the live socket of the running {program}").format(program=servers.file(name)),
                 lambda name=name: still_serves(servers, box, name,
                                                _("the first {program}, after a second one gave "
                                                  "up").format(program=servers.file(name))))


# What a server must not take for a stale socket file (R3): a regular file, a named pipe and
# a directory at either path (connect() to each fails with ECONNREFUSED, as to a stale socket),
# a symbolic link (to a stale socket file) at one, a live socket of the other type at the other.
FOREIGN = (("stream", "regular"), ("dgram", "regular"), ("stream", "fifo"), ("dgram", "fifo"),
           ("stream", "directory"), ("dgram", "directory"), ("stream", "symlink"),
           ("dgram", "socket"))
FOREIGN_WORDS = {"regular": N_("a regular file"), "symlink": N_("a symbolic link to a stale socket file"),
                 "fifo": N_("a named pipe"), "directory": N_("a directory")}


@pytest.mark.points(3)
@pytest.mark.rules("R3", "R9")
@pytest.mark.timeout(150)
def test_not_a_socket(servers, programs, box, ctx):
    """A server started on a regular file, pipe, folder, link or foreign socket exits, leaving it alone"""
    rng = random.Random(ctx.seed + 7)
    for name in NAMES:
        servers.stop(name)
    try:
        for name, kind in FOREIGN:
            path = servers.path(name)
            if kind != "socket":
                content = cases.words(rng, rng.randrange(0, 80))
                planted = unix_probe.plant(box, path, kind, content)
                what = (_("a regular file ({count} bytes)").format(count=len(content)) if kind == "regular"
                        else _(FOREIGN_WORDS[kind]))
                gives_up(servers, programs, box, name, what, before=planted)
                continue
            unix_probe.clear(box, path)
            holder = unix_probe.Holder(box, path, OTHER[name])
            try:
                gives_up(servers, programs, box, name,
                         _("a live {type} socket (connect() fails with EPROTOTYPE)").format(type=OTHER[name]))
            except BaseException:
                holder.abandon()
                raise
            if not holder.release():
                expect.fail(_("the {type} socket at {path} still live after {program} gave up").format(
                                type=OTHER[name], path=path, program=servers.file(name)),
                            _("it no longer answered"))
    finally:
        unix_probe.clear(box, *(servers.path(name) for name in NAMES))


@pytest.mark.points(2)
@pytest.mark.rules("R2")
def test_stale_socket_file(servers, box):
    """A socket file left by a crashed run is replaced: the server starts and serves"""
    for name in NAMES:
        servers.stop(name)
    for name in NAMES:
        path = servers.path(name)
        left = unix_probe.stale(box, path, name)
        if left["connected"] or left["file"].get("kind") != "socket":
            raise PlatformError(_("the checker could not leave a stale socket file at {path}: {left}").format(
                path=path, left=left))
        servers.start(name, _("{program} to replace the stale socket file {path} (a socket file nobody "
                              "serves, left by a crashed run) and serve there").format(
                                  program=servers.file(name), path=path))
        still_serves(servers, box, name,
                     _("{program}, started over a stale socket file").format(program=servers.file(name)))


@pytest.mark.points(2)
@pytest.mark.rules("R9")
def test_cleanup_on_sigterm(servers, programs, box):
    """On SIGTERM both servers exit (a client still connected) and remove their socket files"""
    paths = {name: servers.ensure(name) for name in NAMES}
    # a client still connected, half a line sent, when SIGTERM comes: it must not keep the
    # stream server alive (a thread serving it, a loop waiting for its line)
    client = unix_probe.Linger(box, paths["stream"], timeout=EXIT_WITHIN + 5)
    try:
        for name in NAMES:
            argv = list(servers.lab.programs[name].argv)
            if not unix_probe.terminate(box, argv) and programs.alive(name):
                raise PlatformError(_("found no process {argv} to send SIGTERM to in {container}").format(
                    argv=argv, container=box))
        deadline = time.monotonic() + EXIT_WITHIN
        while any(programs.alive(name) for name in NAMES) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        client.finish()
    files = unix_probe.stat(box, *paths.values())
    problems = []
    for name, path in paths.items():
        if programs.alive(name):
            if name == "stream":
                still = _("{program} still running {seconds:g} s after SIGTERM (a client connected to "
                          "it, half a line sent)")
            else:
                still = _("{program} still running {seconds:g} s after SIGTERM")
            problems.append(still.format(program=servers.file(name), seconds=EXIT_WITHIN))
        if files[path]["exists"] is not False:
            problems.append(_("{path} left behind: {file}").format(path=path,
                                                                  file=unix_probe.describe(files[path])))
    if problems:
        expect.fail(_("both servers to exit on SIGTERM and remove their socket files"),
                    "\n  ".join(["", *problems]))

