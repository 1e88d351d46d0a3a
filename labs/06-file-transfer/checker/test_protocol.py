"""Lab 6 checker, the protocol's edges: command lines in pieces, sizes at buffer
boundaries, names that try to leave the root, bad arguments, unknown commands.

Each check runs one session (one connection) of the checker's client, through the
lossy router, with inputs seeded by the run's seed (cases.py); the helpers are in
conftest.py.
"""

import random

import cases
import pytest
from conftest import INNER, ROOT

from socklab.checking import expect
from socklab.i18n import _


def rng_for(ctx, what):
    return random.Random(f"lab6-{what}-{ctx.seed}")


def send(line, cuts=(), pause=0.0, replies=1):
    return {"send": line, "cuts": list(cuts), "pause": pause, "replies": replies}


def shown(line):
    if len(line) < 80:
        return repr(line.encode())
    return _("{start}... ({count} bytes)").format(start=repr(line[:40]), count=len(line.encode()))


def reply_at(seen, i):
    replies = seen["replies"]
    return replies[i] if i < len(replies) else None


def ended(seen):
    """Why the session's replies stopped, for the evidence."""
    return _("the session: {count} replies").format(count=len(seen["replies"])) + (
        _(", then {error}").format(error=cases.said(seen["error"])) if seen["error"] else
        _(", then the server closed the connection") if seen["closed"] else "")


def expect_quit(seen, i, what):
    """Reply ``i`` is QUIT's '221 bye', and the server then closed the connection."""
    __tracebackhide__ = True
    problem = cases.status_problem(reply_at(seen, i), "221 bye")
    if problem:
        expect.fail(_("after {what}: QUIT answered '221 bye' (the session going on)").format(what=what),
                    problem, ended(seen))
    if not seen["closed"]:
        expect.fail(_("after {what}: QUIT answered, then the server closing the connection").format(
                        what=what), _("the connection still open 2 s later"))


@pytest.mark.points(2)
@pytest.mark.rules("R2", "R3")
def test_commands_in_pieces(files, layout, ctx):
    """Command lines cut anywhere (inside a UTF-8 character, with pauses), several in one segment"""
    rng = rng_for(ctx, "pieces")
    name = layout["utf8"][0]
    line = f"GET {name}\r\n"
    cut = cases.line_cuts(rng, line)
    want_list = files.listing()
    pauses = [0.0] * len(cut)
    pauses[rng.randrange(len(cut))] = cases.PAUSE  # one long pause, at a seeded cut
    steps = [send(line, cut, pauses),
             send("GET one.bin\nLIST\r\nGET empty.bin\n", replies=3),  # not shown
             send("QUIT\n")]
    seen = files.session(steps)
    judged = [(_("{line} sent in {count} pieces (cut at bytes {cuts}, pauses {pauses} s)").format(
                   line=shown(line), count=len(cut) + 1, cuts=cut, pauses=pauses), name),
              (_("'GET one.bin\\n', 'LIST\\r\\n' and 'GET empty.bin\\n' in one segment: GET one.bin"),
               "one.bin"),
              (_("... then LIST"), None),
              (_("... then GET empty.bin"), "empty.bin")]
    for i, (what, file) in enumerate(judged):
        want = files.made[file] if file else want_list
        problem = cases.file_problem(reply_at(seen, i), want["size"], want["sha256"])
        if problem:
            if file:
                expected = _("{what}: '200 OK {size}' and the {size} bytes of {file}").format(
                    what=what, size=want["size"], file=file)
            else:
                expected = _("{what}: '200 OK {size}' and the names, one per line").format(
                    what=what, size=want["size"])
            expect.fail(expected, problem, ended(seen))
    expect_quit(seen, 4, _("commands in pieces"))


@pytest.mark.points(1)
@pytest.mark.rules("R7")
def test_get_sizes(files, layout):
    """GET of files at buffer boundaries (1024, 4096, 8192, 65536 and one off) and a UTF-8 name"""
    names = [f"size-{n}.bin" for n in layout["sizes"]] + [layout["utf8"][1]]
    seen = files.session([send(f"GET {n}\n") for n in names] + [send("QUIT\n")])
    for i, name in enumerate(names):
        want = files.made[name]
        problem = cases.file_problem(reply_at(seen, i), want["size"], want["sha256"])
        if problem:
            expect.fail(_("GET {name}: '200 OK {size}' and the file's {size} bytes (SHA-256 "
                          "{sha256}...)").format(name=name, size=want["size"], sha256=want["sha256"][:16]),
                        problem, ended(seen))
    expect_quit(seen, len(names), _("the GETs"))


@pytest.mark.points(1)
@pytest.mark.rules("R7", "R9")
def test_get_plain_names(files, layout):
    """GET of plain names that look odd (a hidden file, '..' inside a name, a space): served"""
    names = [".hidden.txt", layout["dotted"], layout["spaced"]]
    seen = files.session([send(f"GET {n}\n") for n in names] + [send("QUIT\n")])
    for i, name in enumerate(names):
        want = files.made[name]
        problem = cases.file_problem(reply_at(seen, i), want["size"], want["sha256"])
        if problem:
            expect.fail(_("GET {name} (a plain name: no '/', not '.' or '..'): '200 OK {size}' and the "
                          "file's bytes").format(name=shown(name), size=want["size"]), problem, ended(seen))
    expect_quit(seen, len(names), _("GETs of plain names"))


@pytest.mark.points(1)
@pytest.mark.rules("R8")
def test_not_found_kinds(files, ctx):
    """GET of a missing name, a folder, a UTF-8 name, a name too long, a name with blanks: 550"""
    rng = rng_for(ctx, "missing")
    # and a file's name with blanks around it: the name is the whole rest of the line
    blanked = [rng.choice(("one.bin ", "one.bin  ", "one.bin\t")), rng.choice((" one.bin", "\tone.bin"))]
    names = [f"missing-{rng.randrange(10 ** 6):06d}.bin", INNER.partition("/")[0],
             cases.utf8_name(rng), "n" * rng.randrange(300, 900), *blanked]
    rng.shuffle(names)
    seen = files.session([send(f"GET {n}\n") for n in names] + [send("QUIT\n")])
    for i, name in enumerate(names):
        problem = cases.status_problem(reply_at(seen, i), "550 not found")
        if problem:
            expect.fail(_("GET {name} (no regular file of that name in the root): the reply '550 not "
                          "found', the session going on").format(name=shown(name)), problem, ended(seen))
    expect_quit(seen, len(names), _("GETs of names that are no file"))


@pytest.mark.points(2)
@pytest.mark.rules("R9")
def test_get_refuses_paths(files, layout, ctx):
    """GET of names with '/' ('../sibling/x', '/etc/passwd', 'sub/x', 'a/../b'), '.', '..', NUL: 553"""
    rng = rng_for(ctx, "refused-get")
    names = cases.refused_gets(rng, ROOT, layout["beside"], INNER)
    outside = {files.made[f"../{layout['beside']}"]["sha256"]: _("the sibling folder's secret"),
               files.made["../outside.txt"]["sha256"]: "/scratch/outside.txt"}
    seen = files.session([send(f"GET {n}\n") for n in names] + [send("QUIT\n")])
    for i, name in enumerate(names):
        got = reply_at(seen, i)
        problem = cases.status_problem(got, "553 refused")
        if problem:
            leak = outside.get((got or {}).get("sha256"))
            expect.fail(_("GET {name}: the reply '553 refused' (a name with '/' or NUL, '.' or '..', or "
                          "empty), the session going on").format(name=shown(name)),
                        problem + (_(": the bytes of {leak}").format(leak=leak) if leak else ""),
                        f"{ended(seen)}\n{files.server_state()}".strip())
    expect_quit(seen, len(names), _("refused GETs"))


@pytest.mark.points(1)
@pytest.mark.rules("R9", "R12")
def test_put_stays_in_root(files, layout, ctx):
    """PUT of '../sibling/x', '../x', '/tmp/x', 'sub/x', './x': 553, and no file written"""
    rng = rng_for(ctx, "refused-put")
    attempts = cases.refused_puts(rng, ROOT, layout["beside_dir"])
    steps = []
    for i, (name, _path) in enumerate(attempts):
        steps += [send(f"PUT {name} 5\n"), {"data": [5, ctx.seed + i], "replies": 1}]
    seen = files.session([*steps, send("QUIT\n")])
    written = [path for _name, path in attempts if files.on_server(path)["exists"]]
    replies = [r for r in seen["replies"] if not r["status"].startswith("226")]
    for i, (name, path) in enumerate(attempts):
        problem = cases.status_problem(reply_at({"replies": replies}, i), "553 refused")
        if problem:
            expect.fail(_("PUT {name} 5: the reply '553 refused'").format(name=shown(name)), problem + (
                _("; {path} was written on the server").format(path=path) if path in written else ""),
                ended(seen))
    if written:
        expect.fail(_("refused PUTs: no file written"),
                    _("{paths} written on the server").format(paths=", ".join(written)))
    expect_quit(seen, len(seen["replies"]) - 1, _("refused PUTs"))


@pytest.mark.points(1)
@pytest.mark.rules("R11", "R12")
def test_put_bad_arguments(files, ctx):
    """PUT without a size, or with one that is not digits ('abc', '12x', '1.5'): 501, nothing stored"""
    args = cases.bad_sizes(rng_for(ctx, "bad-size"))
    name = args[0]
    seen = files.session([send(f"PUT {a}\n") for a in args] + [send("QUIT\n")])
    for i, arg in enumerate(args):
        problem = cases.status_problem(reply_at(seen, i), "501 bad arguments")
        if problem:
            expect.fail(_("PUT {arg}: the reply '501 bad arguments', the session going on (the client "
                          "sends no data)").format(arg=arg), problem, ended(seen))
    expect_quit(seen, len(args), _("PUTs with bad arguments"))
    if files.on_server(f"{ROOT}/{name}")["exists"]:
        expect.fail(_("PUTs of {name} with bad arguments: no file stored").format(name=name),
                    _("{path} exists on the server").format(path=f"{ROOT}/{name}"))


@pytest.mark.points(2)
@pytest.mark.rules("R10")
def test_put_in_pieces(files, layout, ctx):
    """PUT with its data in pieces and pauses, at buffer-boundary sizes; PUT again replaces"""
    rng = rng_for(ctx, "put-pieces")
    first, second = sorted(rng.sample(cases.BOUNDARIES, 2), reverse=True)
    name, utf8 = f"up-{rng.randrange(10 ** 6):06d}.bin", cases.utf8_name(rng, ".dat")
    uploads = [(name, first, cases.cuts(rng, first, 1), cases.PAUSE),
               (name, second, cases.cuts(rng, second, 4), 0.0),
               (utf8, 1000, cases.cuts(rng, 1000, 2), 0.2)]
    # the UTF-8 name's size with leading zeros: still one or more digits 0-9
    texts = [str(first), str(second), "0" * rng.randrange(1, 4) + "1000"]
    eager = f"eager-{rng.randrange(10 ** 6):06d}.bin"  # its line and data in one segment
    eager_size = rng.choice(cases.BOUNDARIES)
    steps = []
    for i, ((target, size, cut, pause), text) in enumerate(zip(uploads, texts, strict=True)):
        steps += [send(f"PUT {target} {text}\n"),
                  {"data": [size, ctx.seed * 7 + i], "cuts": cut, "pause": pause, "replies": 1}]
    # the line, its data and the next command in one segment: the server reads exactly
    # the size's bytes, and the next command is what follows them
    steps.append({"send": f"PUT {eager} {eager_size}\n", "data": [eager_size, ctx.seed * 7 + 3],
                  "after": "GET one.bin\n", "replies": 3})  # not shown
    seen = files.session([*steps, send("QUIT\n")])
    whats = [_("PUT {name} {size}, its data in {count} pieces ({pause:g} s apart)").format(
                 name=target, size=text, count=len(cut) + 1, pause=pause)
             for (target, _size, cut, pause), text in zip(uploads, texts, strict=True)]
    whats.append(_("'PUT {name} {size}\\n', its {size} bytes and 'GET one.bin\\n' in one segment (the "
                   "data right after the line, before '150 ready' came)").format(name=eager, size=eager_size))
    for i, (what, size, text) in enumerate(zip(
            whats, [*(u[1] for u in uploads), eager_size], [*texts, str(eager_size)], strict=True)):
        for j, want in ((2 * i, "150 ready"), (2 * i + 1, f"226 stored {size}")):
            got = reply_at(seen, j)
            if got and got["status"] == f"226 stored {text}":  # the size as it came, zeros too
                continue
            problem = cases.status_problem(got, want)
            if problem:
                expect.fail(_("{what}: the reply '{status}'").format(what=what, status=want), problem,
                            ended(seen))
    one = files.made["one.bin"]
    problem = cases.file_problem(reply_at(seen, 2 * len(whats)), one["size"], one["sha256"])
    if problem:
        expect.fail(_("after the {size} bytes of PUT {name}, in the same segment, 'GET one.bin': '200 OK "
                      "1' and its byte").format(size=eager_size, name=eager), problem, ended(seen))
    expect_quit(seen, 2 * len(whats) + 1, _("the PUTs"))
    for target, sent in ((name, seen["sent"][1]), (utf8, seen["sent"][2]), (eager, seen["sent"][3])):
        stored = files.on_server(f"{ROOT}/{target}")
        if stored.get("sha256") != sent["sha256"]:
            expect.fail(_("{path} on the server: the {size} bytes of the last PUT of that name (SHA-256 "
                          "{sha256}...)").format(path=f"{ROOT}/{target}", size=sent["size"],
                                                 sha256=sent["sha256"][:16]),
                        _("no such file") if not stored["exists"] else
                        _("{size} bytes with SHA-256 {sha256}...").format(size=stored["size"],
                                                                           sha256=stored["sha256"][:16]))
