"""Lab 7 checker, on the wire: requests as raw bytes, the answers judged byte by byte.

Every request is made by socklab's HTTP probe in the client container, through the
router, each on its own connection; the site it asks for was written by the checker
into the server's web root (conftest.py: ``site``, ``web``).
"""

import json
import random
import urllib.parse

import cases
import pytest
from conftest import (
    BOUND,
    OCTETS,
    PORT,
    either,
    first_line,
    media_type,
    raw,
    request,
    rng_for,
    shown,
    status,
    type_for,
    varied,
)

from socklab.checking import expect
from socklab.i18n import N_, _, ngettext


def get(target):
    return request("GET", target)


@pytest.mark.points(1)
@pytest.mark.rules("R1")
def test_server_listens(web, server, programs, ctx):
    """The server listens on TCP port 8080 on every address, serves client after client, and obeys PORT"""
    expect.listening_everywhere(server, PORT)
    for i in range(3):
        web.still_serving(ngettext("{count} client before", "{count} clients before", i).format(count=i))
    expect.listening_on_the_port_given(programs, server, PORT, ctx.seed)


@pytest.mark.points(2)
@pytest.mark.rules("R5")
def test_get_index(web):
    """GET / and GET /index.html answer '200 OK' with index.html; GET /docs/ with docs/index.html"""
    pairs = (("/", "index.html"), ("/index.html", "index.html"), ("/docs/", "docs/index.html"))
    answers = web.raw(*(request("GET", target) for target, _ in pairs))
    for (target, name), answer in zip(pairs, answers, strict=True):
        web.expect_file(answer, name, f"GET {target}")
        if media_type(answer) != "text/html":
            expect.fail(_("GET {target}: Content-Type text/html").format(target=target), status(answer))


FILES = ("index.html", "notes.txt", "empty.txt", "images/logo.png", "data/random.bin",
         "docs/a file.txt",  # not shown as prose: a file's name
         "data/block.bin")


@pytest.mark.points(2)
@pytest.mark.rules("R3", "R4", "R5")
def test_content_length(web):
    """Content-Length is the body's size in bytes (at a buffer's edge too), then the server closes"""
    targets = ["/" + urllib.parse.quote(name) for name in FILES]
    for name, target, answer in zip(FILES, targets, web.raw(*map(get, targets)), strict=True):
        web.expect_file(answer, name, f"GET {target}")
        size = web.file(name)["size"]
        lengths = answer["headers"].get("content-length", [])
        if lengths != [str(size)]:
            expect.fail(_("GET {target}: one header 'Content-Length: {size}' (the file's size in "
                          "bytes, and the bytes that followed the head)").format(target=target, size=size),
                        _("{headers} in {status}").format(headers=lengths or _("no Content-Length"),
                                                          status=status(answer)))
        if not answer["closed"]:
            expect.fail(_("GET {target}: the server closing the connection after the body").format(
                            target=target),
                        _("the connection still open ({error})").format(error=cases.said(answer["error"])))


@pytest.mark.points(2)
@pytest.mark.rules("R6")
def test_content_types(web):
    """Content-Type comes from the file's extension, as the README's table says"""
    names = ("index.html", "style.css", "app.js", "notes.txt", "data.json", "images/logo.png",
             "docs/Shout.TXT", "data/README", "data/random.bin")
    for name, answer in zip(names, web.raw(*(get("/" + n) for n in names)), strict=True):
        web.expect_file(answer, name, f"GET /{name}")
        want = type_for(name)
        if media_type(answer) != want:
            expected = (_("GET /{name}: Content-Type {type} (an unknown extension)") if want == OCTETS
                        else _("GET /{name}: Content-Type {type}"))
            expect.fail(expected.format(name=name, type=want),
                        _("{headers} in {status}").format(
                            headers=answer["headers"].get("content-type") or _("no Content-Type"),
                            status=status(answer)))


@pytest.mark.points(2)
@pytest.mark.rules("R7")
def test_head(web):
    """HEAD answers as GET would (status, headers, Content-Length), with no body: files and errors"""
    rng = rng_for(web.ctx, "head")
    targets = ["/data/random.bin", "/index.html", rng.choice(("/no-such-page.html", "/docs/nope/")),
               "/submit", rng.choice(("/%zz.txt", "/caf%E9.txt"))]
    heads = web.raw(*(varied(rng, "HEAD", t) for t in targets))
    gets = web.raw(*(request("GET", t) for t in targets))
    for target, head, got in zip(targets, heads, gets, strict=True):
        same = (_("status"), *(_("header {name}").format(name=h)
                               for h in ("content-length", "content-type", "allow")))
        want = [got.get("status"), *(got.get("headers", {}).get(h) for h in
                                     ("content-length", "content-type", "allow"))]
        seen = [head.get("status"), *(head.get("headers", {}).get(h) for h in
                                      ("content-length", "content-type", "allow"))]
        if head.get("status") is None or seen != want:
            diff = [f"{n}: {s} (GET: {w})" for n, s, w in zip(same, seen, want, strict=True) if s != w]
            expect.fail(_("HEAD {target}: the status line and headers a GET gets ({status})").format(
                            target=target, status=status(got)),
                        "; ".join(diff) or status(head), web.server_state())
        if head["body_size"]:
            expect.fail(_("HEAD {target}: no bytes after the head, then the connection closed").format(
                            target=target),
                        _("{size} bytes after the head, starting {start}").format(
                            size=head["body_size"], start=repr(head["body_start"][:40])))


def expect_error(answer, spec, codes, evidence=""):
    """An error answer: one of ``codes``, and a Content-Length that is its body's size."""
    __tracebackhide__ = True
    what = _("the request {request}").format(request=shown(spec))
    if "".join(spec["pieces"]).startswith("HEAD "):
        codes_ok = answer.get("status") in codes and not answer["body_size"]
        if not codes_ok:
            expect.fail(_("{what}: the status {codes}, and no body").format(what=what, codes=either(codes)),
                        _("{status}, then {size} bytes").format(status=status(answer),
                                                                size=answer["body_size"]),
                        evidence)
        return
    if answer.get("status") not in codes:
        expect.fail(_("{what}: the status {codes}").format(what=what, codes=either(codes)), status(answer),
                    evidence)
    lengths = answer["headers"].get("content-length", [])
    if lengths != [str(answer["body_size"])]:
        expect.fail(_("{what}: a Content-Length that is its body's size ({size} bytes came)").format(
                        what=what, size=answer["body_size"]),
                    _("{headers} in {status}").format(headers=lengths or _("no Content-Length"),
                                                      status=status(answer)))
    code = str(answer["status"])
    if media_type(answer) != "text/html" or code not in answer.get("body_text", ""):
        expect.fail(_("{what}: an error page, Content-Type text/html, whose text names the "
                      "code {code}").format(what=what, code=code),
                    _("{status}, then {start}").format(status=status(answer),
                                                       start=repr(answer["body_start"][:120])))


@pytest.mark.points(1)
@pytest.mark.rules("R8", "R9")
def test_not_found(web):
    """A file that is not there, or a folder without index.html: '404 Not Found', with a page that says so"""
    rng = rng_for(web.ctx, "not-found")
    targets = ["/no-such-page.html", "/data/no-such.bin", "/docs/missing/", "/empty.txt/x",
               "/data/", rng.choice(("/images", "/images/")), f"/{rng.randrange(10 ** 6)}.txt"]
    specs = [varied(rng, "GET", t) for t in targets]
    for spec, answer in zip(specs, web.raw(*specs), strict=True):
        expect_error(answer, spec, (404,), web.server_state())


@pytest.mark.points(2)
@pytest.mark.rules("R10", "R11", "R9")
def test_method_errors(web):
    """POST to a file or GET of /submit: '405' with Allow; PUT, DELETE, BREW, get: '501'"""
    cases = ((request("POST", "/index.html", body="a=1"), 405, {"GET", "HEAD"}),
             (get("/submit"), 405, {"POST"}),
             (request("PUT", "/index.html", body="new"), 501, None),
             (request("DELETE", "/index.html"), 501, None),
             (request("BREW", "/"), 501, None),
             (request("get", "/index.html"), 501, None),
             (request(random.Random(web.ctx.seed).choice(("PATCH", "OPTIONS", "TRACE", "M-SEARCH",
                                                          "Get", "PROPFIND")), "/"), 501, None),
             (request(other_token(random.Random(f"{web.ctx.seed}:token")), "/"), 501, None),
             (request("POST", "/notes.txt?x=1", body="a=1"), 405, {"GET", "HEAD"}),
             (request("HEAD", "/submit"), 405, {"POST"}))
    for (spec, code, allow), answer in zip(cases, web.raw(*(c[0] for c in cases)), strict=True):
        expect_error(answer, spec, (code,), web.server_state())
        if allow:
            allowed = {m.strip() for v in answer["headers"].get("allow", []) for m in v.split(",")}
            if allowed != allow:
                expect.fail(_("{line}: the header 'Allow: {methods}'").format(
                                line=first_line(spec), methods=", ".join(sorted(allow))),
                            str(answer["headers"].get("allow") or _("no Allow header")))


def other_token(rng):
    """A method that is a token with more than letters in it ('X-1', 'A_B'...): 501, not 400."""
    return rng.choice(("X", "M", "Z", "Q")) + rng.choice("!#$%&'*+-.^_`|~0123456789") + \
        rng.choice(("1", "GET", "b", "_Y"))


# why each request is malformed (shown, translated), and its bytes (quoted as they are in
# a failure message, as the request that was sent: data, not prose)
MALFORMED = {
    N_("lines ending in a bare LF, not CRLF"):
        "GET / HTTP/1.1\nHost: server\n\n",  # not shown as prose
    N_("one header line ending in a bare LF"):
        "GET / HTTP/1.1\r\nHost: server\n\r\n",  # not shown as prose
    N_("a request line of two parts"):
        "GET /\r\nHost: server\r\n\r\n",  # not shown as prose
    N_("a request line of four parts"):
        "GET / index.html HTTP/1.1\r\nHost: server\r\n\r\n",  # not shown as prose
    N_("a method that is not a token"):
        "G(T / HTTP/1.1\r\nHost: server\r\n\r\n",  # not shown as prose
    N_("a target that does not start with /"):
        "GET index.html HTTP/1.1\r\nHost: server\r\n\r\n",  # not shown as prose
    N_("not HTTP/1.0 or HTTP/1.1"):
        "GET / HTTX/1.1\r\nHost: server\r\n\r\n",  # not shown as prose
    N_("a header line without a colon"):
        "GET / HTTP/1.1\r\nHost server\r\n\r\n",  # not shown as prose
    N_("a bad percent escape"):
        "GET /%zz.html HTTP/1.1\r\nHost: server\r\n\r\n",  # not shown as prose
    N_("a POST without Content-Length"):
        "POST /submit HTTP/1.1\r\nHost: server\r\n\r\nname=x",  # not shown as prose
    N_("a Content-Length that is not a number"):
        "POST /submit HTTP/1.1\r\nHost: server\r\nContent-Length: ten\r\n\r\nname=x",  # not shown as prose
    N_("bytes that are not ASCII text"):
        "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\xff\xfe\r\n\r\n",  # not shown as prose
    N_("bare LF line ends and no empty line yet (answer at once)"):
        "GET / HTTP/1.1\nHost: server\n",  # not shown as prose
    N_("two spaces in the request line"):
        "GET  / HTTP/1.1\r\nHost: server\r\n\r\n",  # not shown as prose
    N_("a version HTTP/1.2"):
        "GET / HTTP/1.2\r\nHost: server\r\n\r\n",  # not shown as prose
    N_("a version in lower case"):
        "GET / http/1.1\r\nHost: server\r\n\r\n",  # not shown as prose
    N_("an absolute URL as the target"):
        "GET http://server/ HTTP/1.1\r\nHost: server\r\n\r\n",  # not shown as prose
    N_("a space before a header's colon"):
        "GET / HTTP/1.1\r\nHost : server\r\n\r\n",  # not shown as prose
    N_("a folded header line (starts with a space)"):
        "GET / HTTP/1.1\r\nHost: server\r\n x\r\n\r\n",  # not shown as prose
    N_("an empty header name"):
        "GET / HTTP/1.1\r\nHost: server\r\n: x\r\n\r\n",  # not shown as prose
    N_("UTF-8 in a header value"):
        "GET / HTTP/1.1\r\nHost: server\r\nX-Name: caf\xc3\xa9\r\n\r\n",  # not shown as prose
    N_("a path that decodes to a NUL byte"):
        "GET /notes%00.txt HTTP/1.1\r\nHost: server\r\n\r\n",  # not shown as prose
    N_("a path that decodes to bytes that are not UTF-8"):
        "GET /caf%E9.txt HTTP/1.1\r\nHost: server\r\n\r\n",  # not shown as prose
    N_("a % with one hex digit"):
        "GET /notes.txt%2 HTTP/1.1\r\nHost: server\r\n\r\n",  # not shown as prose
    N_("a negative Content-Length"):
        "POST /submit HTTP/1.1\r\nHost: server\r\nContent-Length: -6\r\n\r\nname=x",  # not shown as prose
    N_("a space after the version"):
        "GET / HTTP/1.1 \r\nHost: server\r\n\r\n",  # not shown as prose
    N_("a space before the method"):
        " GET / HTTP/1.1\r\nHost: server\r\n\r\n",  # not shown as prose
    N_("a version HTTP/1.10"):
        "GET / HTTP/1.10\r\nHost: server\r\n\r\n",  # not shown as prose
    N_("a version HTTP/1.1 with more after it"):
        "GET / HTTP/1.1x\r\nHost: server\r\n\r\n",  # not shown as prose
    N_("an empty Content-Length"):
        "POST /submit HTTP/1.1\r\nHost: server\r\nContent-Length: \r\n\r\n",  # not shown as prose
}


@pytest.mark.points(3)
@pytest.mark.rules("R12", "R13", "R15", "R18", "R21", "R9")
def test_malformed_requests(web):
    """Malformed requests (bare LF, bad request line, bad header, bad method) get '400'"""
    specs = {why: raw(text) for why, text in MALFORMED.items()}
    for (why, spec), answer in zip(specs.items(), web.raw(*specs.values()), strict=True):
        expect_error(answer, spec, (400,), ("(" + _(why) + ")\n" + web.server_state()).strip())
    web.still_serving(ngettext("{count} malformed request", "{count} malformed requests", len(specs)).format(
        count=len(specs)))


def padded(method, size, body="", cut=None):
    """A request whose head is exactly ``size`` bytes (a filler header), its body after it."""
    lines = f"{method} /notes.txt HTTP/1.1\r\nHost: server\r\n"  # not shown
    if body:
        lines = f"{method} /submit HTTP/1.1\r\nHost: server\r\nContent-Length: {len(body)}\r\n"  # not shown
    room = size - len(lines) - len("X-Filler: \r\n\r\n")
    text = f"{lines}X-Filler: {'a' * room}\r\n\r\n{body}"
    return {"pieces": [text] if cut is None else [text[:cut], text[cut:]], "pause": 0.2,
            **({"ids": ["name", "message"]} if body else {})}


@pytest.mark.points(1)
@pytest.mark.rules("R14", "R21", "R3", "R9")
def test_huge_head(web):
    """A head that never ends gets a framed '431' or '400' at once; a head of 8192 bytes is served"""
    for shape, extra in ((N_("a huge request head of ever more 1 KiB header lines"), ()),
                         (N_("a huge request head whose one header line never ends"), ("--one-line",))):
        head = _(shape)
        answer = web.probe("huge", "--host", "server", "--port", str(PORT), "--size",
                           str(1 << 20), *extra)
        if answer.get("status") not in (431, 400):
            expect.fail(_("{head} (up to 1 MiB, stopping at the first byte of an answer): the "
                          "status 431 or 400 once 8 KiB have come").format(head=head),
                        _("{status}, after {sent} bytes sent").format(status=status(answer),
                                                                      sent=answer["sent"]),
                        web.server_state())
        problems = cases.framing_problems(answer)
        if problems or media_type(answer) != "text/html" or \
                str(answer["status"]) not in answer.get("body_text", ""):
            expect.fail(_("the answer {code} to {head}: like every answer, 'HTTP/1.1 CODE REASON', "
                          "one Content-Type (text/html), one Content-Length (its body's size), "
                          "'Connection: close', and an error page that names the code").format(
                            code=answer["status"], head=head),
                        "; ".join(problems) or _("{status}, then {start}").format(
                            status=status(answer), start=repr(answer["body_start"][:120])))
        web.still_serving(head)
    # the limit's edge, seeded: a head of 8192 bytes (empty line included) is a head like any
    # other, even with a body in the same segment; one of 8193 or more is too long
    rng = rng_for(web.ctx, "limit")
    message = "x" * rng.randrange(1, 3000)
    body = urllib.parse.urlencode({"name": "edge", "message": message})
    fits = [padded("GET", 8192, cut=rng.randrange(8000, 8192)),
            padded("GET", 8192 - rng.randrange(1, 4)), padded("POST", 8192, body=body)]
    over = [padded("GET", 8193 + rng.randrange(0, 3))]
    for spec, answer in zip(fits + over, web.raw(*fits, *over), strict=True):
        size = len("".join(spec["pieces"]).partition("\r\n\r\n")[0]) + 4
        if spec in over:
            if answer.get("status") not in (431, 400):
                expect.fail(_("a complete request head of {size} bytes (over 8192): the status "
                              "431 or 400").format(size=size), status(answer), web.server_state())
        elif spec.get("ids"):
            if answer.get("status") != 200 or answer.get("texts") != {"name": "edge",
                                                                      "message": message}:
                expect.fail(_("POST /submit, its head {size} bytes (the most allowed: 8192) and "
                              "its {length}-byte body in the same segment: '200 OK' and the "
                              "form's page").format(size=size, length=len(body)),
                            _("{status}, showing {texts}").format(status=status(answer),
                                                                  texts=answer.get("texts")),
                            web.server_state())
        else:
            web.expect_file(answer, "notes.txt", _("GET /notes.txt, its head {size} bytes (8192 "
                            "at most is allowed)").format(size=size))


@pytest.mark.points(3)
@pytest.mark.rules("R16")
def test_outside_root(web):
    """Paths that lead out of the web root (.., %2e%2e, ..%2f, //) get 403, 400 or 404, never a file"""
    secrets = [web.site["secret"], "root:x:0:0"]
    rng = rng_for(web.ctx, "outside")
    targets = [*cases.traversals(rng, web.site["beside"]), "/../secret.txt",
               "/%2e%2e/secret.txt", "/..%2fsecret.txt", "//etc/passwd"]
    specs = [varied(rng, "GET", target, find=secrets) for target in targets]
    for spec, answer in zip(specs, web.raw(*specs), strict=True):
        leaked = answer.get("found")
        if leaked or answer.get("status") not in (400, 403, 404):
            expect.fail(_("{line}: the status 403 (or 400 or 404), and nothing of "
                          "/scratch/secret.txt or /etc/passwd").format(line=first_line(spec)),
                        _("{status}, with {leaked} in its body").format(status=status(answer), leaked=leaked)
                        if leaked else f"{status(answer)}",
                        web.server_state())


@pytest.mark.points(2)
@pytest.mark.rules("R20")
def test_slow_client(web):
    """A client that sends its head slowly holds up no one: another is answered meanwhile"""
    stalled = request("GET", "/notes.txt")["pieces"][0]
    crowd = rng_for(web.ctx, "crowd").randint(33, 40)  # more than a default thread pool holds
    spec = {"stalled": stalled, "split": len("GET /notes.txt HTTP/1.1\r\nHo"),  # not shown
            "other": request("GET", "/empty.txt")["pieces"][0], "crowd": crowd}
    seen = web.probe("slow", "--host", "server", "--port", str(PORT), "--bound", str(BOUND),
                     "--spec", json.dumps(spec), timeout=BOUND + 60)
    other, slow = seen["other"], seen["stalled"]
    if other.get("status") != 200 or other["body_sha256"] != web.file("empty.txt")["sha256"]:
        expect.fail(_("a client that sends GET /empty.txt while {count} others are still sending "
                      "their request heads (stopped after {sent}): its answer within {bound:g} s "
                      "(serve each connection in its own thread)").format(
                        count=crowd + 1, sent=repr(stalled[:spec["split"]]), bound=BOUND),
                    status(other), web.server_state())
    web.expect_file(slow, "notes.txt", _("GET /notes.txt, its head sent in pieces, the rest one "
                    "byte at a time"))


@pytest.mark.points(2)
@pytest.mark.rules("R19", "R2")
def test_post_form(web, form_values):
    """POST /submit with the form's fields, sent in pieces: a page that shows them as text"""
    body = urllib.parse.urlencode(form_values)
    answer = web.raw(request("POST", "/submit", body=body, pieces=3, pause=0.05,
                             headers={"Content-Type": "application/x-www-form-urlencoded"},
                             ids=["name", "message"]))[0]
    what = _("POST /submit with the body {body} (head first, then the body in 3 pieces)").format(
        body=repr(body))
    if answer.get("status") != 200 or media_type(answer) != "text/html":
        expect.fail(_("{what}: '200 OK' and an HTML page").format(what=what), status(answer),
                    web.server_state())
    texts = answer.get("texts", {})
    for field, value in form_values.items():
        if texts.get(field) != value:
            expect.fail(_("{what}: the element with id=\"{field}\" holding the text {value} "
                          "(decoded from the form, then HTML-escaped)").format(
                            what=what, field=field, value=repr(value)),
                        _("no element with that id") if texts.get(field) is None else
                        _("the text {text} (parsed as a browser would)").format(text=repr(texts[field])),
                        _("the page began {start}").format(start=repr(answer["body_start"][:200])))
