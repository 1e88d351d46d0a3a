"""Lab 6 checker: LIST, GET, PUT and QUIT over a delayed, lossy link, files checked by SHA-256.

Every transfer is made by socklab's file-transfer probe from the client container,
through the router (20 ms each way, 1% loss each way; the 20 MiB files on a lighter link,
see LARGE). Uploaded files are hashed in the server container as the student user.
The helpers (``files``) are in conftest.py.
"""

import random

import cases
import pytest
from conftest import MIB, PORT, ROOT, answered_quit, problem, status

from socklab.checking import expect
from socklab.i18n import _

# The 20 MiB files cross a lighter link, so that the check takes seconds, not minutes:
# TCP's throughput falls with loss and delay, and 1% loss over 40 ms round trips allows
# only a few Mbit/s.
LARGE = {"c2s": {"loss": 0.001, "delay_ms": 5}, "s2c": {"loss": 0.001, "delay_ms": 5}}
MEMORY_LIMIT_KIB = 8 * 1024  # a 20 MiB transfer must not raise the server's peak by this much


@pytest.mark.points(1)
@pytest.mark.rules("R1")
def test_server_listens(files, server, programs, ctx):
    """The server listens on TCP port 6000 on every address, serves client after client, and obeys PORT"""
    expect.listening_everywhere(server, PORT)
    for i in range(3):
        seen = files.lines("QUIT")
        got = [r["status"] for r in seen["replies"]]
        if got != ["221 bye"]:
            expect.fail(_("client {n} of 3, one after another, sending QUIT: the reply '221 bye'").format(
                            n=i + 1),
                        _("the replies {got}").format(got=got) + problem(seen), files.server_state())
    expect.listening_on_the_port_given(programs, server, PORT, ctx.seed)


@pytest.mark.points(2)
@pytest.mark.rules("R6", "R4")
def test_list(files):
    """LIST answers '200 OK <size>' and the names of the regular files, sorted, no hidden ones"""
    want = files.listing()
    seen = files.lines("LIST", "QUIT")
    replies = seen["replies"]
    got = replies[0] if replies else None
    if got is None or got["status"] != f"200 OK {want['size']}" or got.get("body") != want["text"]:
        expect.fail(_("LIST: '200 OK {size}', then the names of the regular files in {root} (sorted; no "
                      "names starting with '.', no folders), each with '\\n': {names}").format(
                        size=want["size"], root=ROOT, names=repr(want["text"])),
                    status(got["status"] if got else None) + problem(seen)
                    + (_(", then {body}").format(body=repr(got.get("body")))
                       if got and "body" in got else ""))
    if len(replies) < 2 or replies[1]["status"] != "221 bye":
        expect.fail(_("after LIST: QUIT answered '221 bye' (the LIST body exactly <size> bytes)"),
                    status(replies[1]["status"] if len(replies) > 1 else None) + problem(seen))


@pytest.mark.points(2)
@pytest.mark.rules("R7", "R8")
def test_get_small(files):
    """GET of a 0-byte and a 1-byte file; GET of a missing file answers '550 not found'"""
    files.expect_get("empty.bin")
    files.expect_get("one.bin")
    seen = files.get("no-such-file.bin")
    if seen["status"] != "550 not found":
        expect.fail(_("GET no-such-file.bin: the reply '550 not found'"),
                    status(seen["status"]) + problem(seen))
    answered_quit(seen, _("GET no-such-file.bin"))


@pytest.mark.points(2)
@pytest.mark.rules("R10")
def test_put_small(files, ctx):
    """PUT of a 0-byte and a 1-byte file: stored on the server, byte for byte"""
    files.expect_put("up-empty.bin", 0, ctx.seed + 10)
    files.expect_put("up-one.bin", 1, ctx.seed + 11)


@pytest.mark.points(1)
@pytest.mark.rules("R7")
def test_get_one_mebibyte(files):
    """GET of a 1 MiB file over the lossy link: the same SHA-256"""
    files.expect_get("one-mib.bin")


@pytest.mark.points(1)
@pytest.mark.rules("R10")
def test_put_one_mebibyte(files, ctx):
    """PUT of a 1 MiB file over the lossy link: the same SHA-256 on the server"""
    files.expect_put("up-one-mib.bin", MIB, ctx.seed + 12)


def small_memory(files, before, what):
    __tracebackhide__ = True
    growth, which = files.memory_growth(before)
    if growth > MEMORY_LIMIT_KIB:
        expect.fail(_("{what}: the file moved in pieces, the server's peak memory growing by less than "
                      "{limit} MiB").format(what=what, limit=MEMORY_LIMIT_KIB // 1024),
                    _("the peak memory (VmHWM) of {which} grew by {growth:.1f} MiB").format(
                        which=which, growth=growth / 1024))


@pytest.mark.points(3)
@pytest.mark.rules("R7", "R13")
def test_get_large(files, impair):
    """GET of a 20 MiB file: the same SHA-256, without holding the file in memory"""
    impair.set(update=LARGE)
    before = files.memory()
    files.expect_get("big.bin")
    small_memory(files, before, _("GET big.bin (20 MiB)"))


@pytest.mark.points(2)
@pytest.mark.rules("R10", "R13")
def test_put_large(files, impair, ctx):
    """PUT of a 20 MiB file: the same SHA-256 on the server, without holding it in memory"""
    impair.set(update=LARGE)
    before = files.memory()
    files.expect_put("up-big.bin", 20 * MIB, ctx.seed + 13)
    small_memory(files, before, _("PUT up-big.bin (20 MiB)"))


@pytest.mark.points(2)
@pytest.mark.rules("R7")
def test_slow_reader(files, impair):
    """GET of 1 MiB by a slow reader, while the server is paused and resumed: the whole file"""
    impair.set(profile="clean")  # a steady send queue shows the server blocked in send()
    want = files.made["one-mib.bin"]
    seen = files.slow_get("one-mib.bin", [64 * 1024, 512 * 1024])
    what = _("GET one-mib.bin by a client that stops reading twice, while the server is paused and "
             "resumed (as Ctrl-Z and fg do)")
    if seen["received"] != want["size"] or seen["sha256"] != want["sha256"]:
        expect.fail(_("{what}: {size} bytes with SHA-256 {sha256}").format(
                        what=what, size=want["size"], sha256=want["sha256"]),
                    _("{status}, then {size} bytes with SHA-256 {sha256}{problem} (is every send()'s "
                      "return value used?)").format(status=status(seen["status"]), size=seen["received"],
                                                    sha256=seen["sha256"], problem=problem(seen)),
                    files.server_state())
    answered_quit(seen, what)


@pytest.mark.points(2)
@pytest.mark.rules("R14")
def test_client_leaves_mid_transfer(files, ctx):
    """Clients that reset in the middle of a GET or a PUT, or close mid-PUT: the server goes on"""
    reset_get, reset_put, close_put = 256, 100, 200  # KiB into each transfer
    files.get("big.bin", "--reset-after", str(reset_get * 1024))
    files.put("half.bin", MIB, ctx.seed, "--reset-after", str(reset_put * 1024))
    files.put("closed.bin", MIB, ctx.seed + 1, "--close-after", str(close_put * 1024))
    what = _("clients that reset in the middle of a GET (after {reset_get} KiB) and of a PUT (after "
             "{reset_put} KiB), and one that closes its side cleanly in the middle of a PUT (after "
             "{close_put} KiB)").format(reset_get=reset_get, reset_put=reset_put, close_put=close_put)
    evidence = files.server_state(wait=1)
    if evidence:
        expect.fail(_("the server to go on after {what}").format(what=what), _("it stopped"), evidence)
    seen = files.get("one.bin")
    want = files.made["one.bin"]
    if seen["status"] != "200 OK 1" or seen["sha256"] != want["sha256"]:
        expect.fail(_("after {what}: GET one.bin answered by a new client").format(what=what),
                    f"{status(seen['status'])}{problem(seen)}", files.server_state())


@pytest.mark.points(1)
@pytest.mark.rules("R5", "R2", "R4")
def test_unknown_command_and_quit(files, ctx):
    """Unknown commands (HELLO, LISTING, GETX, get, ' LIST', a 1024-byte line): 500; QUIT closes"""
    lines = cases.unknown_commands(random.Random(f"lab6-unknown-{ctx.seed}"))
    seen = files.lines(*lines, "QUIT")
    got = [r["status"] for r in seen["replies"]]
    want = ["500 unknown command"] * len(lines) + ["221 bye"]
    if got != want or not seen["closed"]:
        shown = [line if len(line) < 40 else _("{start}... ({count} bytes)").format(
            start=line[:8], count=len(line) + 1) for line in lines]
        expect.fail(_("{lines}, then QUIT: the replies {want}, then the server closing the "
                      "connection").format(lines=shown, want=want),
                    _("the replies {got}").format(got=got) + (_("; then the server closed") if seen["closed"]
                                                              else _("; the connection stayed open"))
                    + problem(seen))
