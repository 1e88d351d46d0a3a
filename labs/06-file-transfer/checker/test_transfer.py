"""Lab 6 checker: LIST, GET, PUT and QUIT over a delayed, lossy link, files checked by SHA-256.

Every transfer is made by socklab's file-transfer probe from the client container,
through the router (20 ms each way, 1% loss each way; the 20 MiB files on a lighter link,
see LARGE). Uploaded files are hashed in the server container as the student user.
The helpers (``files``) are in conftest.py.
"""

import pytest
from conftest import MIB, PORT, ROOT, answered_quit, problem, refused, status

from socklab.checking import expect

# The 20 MiB files cross a lighter link, so that the check takes seconds, not minutes:
# TCP's throughput falls with loss and delay, and 1% loss over 40 ms round trips allows
# only a few Mbit/s.
LARGE = {"c2s": {"loss": 0.001, "delay_ms": 5}, "s2c": {"loss": 0.001, "delay_ms": 5}}
MEMORY_LIMIT_KIB = 8 * 1024  # a 20 MiB transfer must not raise the server's peak by this much


@pytest.mark.points(1)
def test_server_listens(programs, server, made):
    """The server listens on TCP port 6000"""
    programs.ensure("server")
    expect.listening(server, PORT)


@pytest.mark.points(2)
def test_list(files):
    """LIST answers '200 OK <size>' and the file names, one per line"""
    seen = files.lines("LIST", "QUIT")
    replies = seen["replies"]
    if not replies or not replies[0]["status"].startswith("200 OK ") or "body" not in replies[0]:
        expect.fail("LIST: the reply '200 OK <size>', then <size> bytes of names",
                    status(replies[0]["status"] if replies else None) + problem(seen))
    names = replies[0]["body"].splitlines()
    missing = [n for n in ("empty.bin", "one.bin", "one-mib.bin", "big.bin") if n not in names]
    if missing:
        expect.fail("LIST: the names empty.bin, one.bin, one-mib.bin, big.bin among its lines",
                    f"the lines {names[:20]}; missing {missing}")
    if len(replies) < 2 or replies[1]["status"] != "221 bye":
        expect.fail("after LIST: QUIT answered '221 bye' (the LIST body exactly <size> bytes)",
                    status(replies[1]["status"] if len(replies) > 1 else None) + problem(seen))


@pytest.mark.points(2)
def test_get_small(files):
    """GET of a 0-byte and a 1-byte file; GET of a missing file answers '550 not found'"""
    files.expect_get("empty.bin")
    files.expect_get("one.bin")
    seen = files.get("no-such-file.bin")
    if seen["status"] != "550 not found":
        expect.fail("GET no-such-file.bin: the reply '550 not found'",
                    status(seen["status"]) + problem(seen))
    answered_quit(seen, "GET no-such-file.bin")


@pytest.mark.points(2)
def test_put_small(files, ctx):
    """PUT of a 0-byte and a 1-byte file: stored on the server, byte for byte"""
    files.expect_put("up-empty.bin", 0, ctx.seed + 10)
    files.expect_put("up-one.bin", 1, ctx.seed + 11)


@pytest.mark.points(1)
def test_get_one_mebibyte(files):
    """GET of a 1 MiB file over the lossy link: the same SHA-256"""
    files.expect_get("one-mib.bin")


@pytest.mark.points(1)
def test_put_one_mebibyte(files, ctx):
    """PUT of a 1 MiB file over the lossy link: the same SHA-256 on the server"""
    files.expect_put("up-one-mib.bin", MIB, ctx.seed + 12)


def small_memory(files, before, what):
    __tracebackhide__ = True
    growth, which = files.memory_growth(before)
    if growth > MEMORY_LIMIT_KIB:
        expect.fail(f"{what}: the file moved in pieces, the server's peak memory growing by "
                    f"less than {MEMORY_LIMIT_KIB // 1024} MiB",
                    f"the peak memory (VmHWM) of {which} grew by {growth / 1024:.1f} MiB")


@pytest.mark.points(3)
def test_get_large(files, impair):
    """GET of a 20 MiB file: the same SHA-256, without holding the file in memory"""
    impair.set(update=LARGE)
    before = files.memory()
    files.expect_get("big.bin")
    small_memory(files, before, "GET big.bin (20 MiB)")


@pytest.mark.points(2)
def test_put_large(files, impair, ctx):
    """PUT of a 20 MiB file: the same SHA-256 on the server, without holding it in memory"""
    impair.set(update=LARGE)
    before = files.memory()
    files.expect_put("up-big.bin", 20 * MIB, ctx.seed + 13)
    small_memory(files, before, "PUT up-big.bin (20 MiB)")


@pytest.mark.points(2)
def test_get_refuses_paths(files):
    """GET of '../../etc/passwd', '/etc/passwd' or '../outside.txt' answers '553 refused'"""
    for name in ("../../etc/passwd", "/etc/passwd", "../outside.txt", "."):
        refused(files.get(name), f"GET {name}", files.server_state())


@pytest.mark.points(1)
def test_put_stays_in_root(files, ctx):
    """PUT of '../escaped.bin' or '/tmp/escaped.bin' answers '553 refused' and writes nothing"""
    for name, path in (("../escaped.bin", "/scratch/escaped.bin"),
                       ("/tmp/escaped.bin", "/tmp/escaped.bin")):
        seen = files.put(name, 5, ctx.seed)
        written = files.on_server(path)["exists"]
        refused(seen, f"PUT {name} 5", f"and {path} was written on the server" if written else "")
        if written:
            expect.fail(f"PUT {name} 5: nothing written outside {ROOT}", f"{path} was written")


@pytest.mark.points(2)
def test_slow_reader(files, impair):
    """GET of 1 MiB by a slow reader, while the server is paused and resumed: the whole file"""
    impair.set(profile="clean")  # a steady send queue shows the server blocked in send()
    want = files.made["one-mib.bin"]
    seen = files.slow_get("one-mib.bin", [64 * 1024, 512 * 1024])
    what = ("GET one-mib.bin by a client that stops reading twice, while the server is "
            "paused and resumed (as Ctrl-Z and fg do)")
    if seen["received"] != want["size"] or seen["sha256"] != want["sha256"]:
        expect.fail(f"{what}: {want['size']} bytes with SHA-256 {want['sha256']}",
                    f"{status(seen['status'])}, then {seen['received']} bytes with SHA-256 "
                    f"{seen['sha256']}{problem(seen)} (is every send()'s return value used?)",
                    files.server_state())
    answered_quit(seen, what)


@pytest.mark.points(2)
def test_client_leaves_mid_transfer(files, ctx):
    """Clients that reset in the middle of a GET or a PUT: the server goes on serving"""
    files.get("big.bin", "--reset-after", str(256 * 1024))
    files.put("half.bin", MIB, ctx.seed, "--reset-after", str(100 * 1024))
    evidence = files.server_state(wait=1)
    if evidence:
        expect.fail("the server to go on after clients that reset in the middle of a GET "
                    "(after 256 KiB) and of a PUT (after 100 KiB)", "it stopped", evidence)
    files.expect_get("one.bin")


@pytest.mark.points(1)
def test_unknown_command_and_quit(files):
    """An unknown command answers '500 unknown command'; QUIT answers '221 bye' and closes"""
    seen = files.lines("HELLO", "QUIT")
    got = [r["status"] for r in seen["replies"]]
    if got != ["500 unknown command", "221 bye"] or not seen["closed"]:
        expect.fail("HELLO, then QUIT: the replies '500 unknown command', '221 bye', then "
                    "the server closing the connection",
                    f"the replies {got}" + ("; then the server closed" if seen["closed"] else
                                            "; the connection stayed open") + problem(seen))
