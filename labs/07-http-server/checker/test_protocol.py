"""Lab 7 checker, the protocol's edges: every answer framed and closed whatever the request
said of its connection, paths spelt every way the README allows, the order of the
answers, requests in pieces with pauses, the form's fields, rude clients.

Inputs are seeded by the run's seed (cases.py); the helpers are in conftest.py.
"""

import itertools
import urllib.parse

import cases
import pytest
from conftest import either, media_type, request, rng_for, shown, status, varied

from socklab.checking import expect
from socklab.i18n import _


def raw_spec(text, cuts):
    """A request's text sent in pieces, cut at ``cuts``."""
    edges = [0, *cuts, len(text)]
    return {"pieces": [text[a:b] for a, b in itertools.pairwise(edges)]}


@pytest.mark.points(2)
@pytest.mark.rules("R3", "R4")
def test_every_answer_closes(web, form_values):
    """Every answer: HTTP/1.1, one Content-Type and Content-Length, Connection: close, then the close"""
    rng = rng_for(web.ctx, "closes")
    form = urllib.parse.urlencode(form_values)
    specs = [varied(rng, "GET", "/"), varied(rng, "GET", "/notes.txt"),
             varied(rng, "GET", "/empty.txt"), varied(rng, "HEAD", "/data/random.bin"),
             varied(rng, "GET", "/no-such-page.html"), varied(rng, "GET", "/submit"),
             varied(rng, "POST", "/submit", body=form,
                    headers={"Content-Type": "application/x-www-form-urlencoded"}),
             varied(rng, "BREW", "/"), varied(rng, "GET", "/%zz"),
             varied(rng, "GET", "/..%2fsecret.txt")]
    # at least one request that says nothing of its connection, and one keep-alive
    # (and a keep-alive client's second request on the same connection, once answered)
    again = "GET /index.html HTTP/1.1\r\nHost: server\r\n\r\n"  # not shown
    specs[1] = {**request("GET", "/notes.txt", connection=None), "again": again}
    specs[2] = {**request("GET", "/empty.txt", connection="keep-alive", version="HTTP/1.1"),
                "again": again}
    specs[4] = {**request("GET", "/no-such-page.html", connection=None, version="HTTP/1.0"),
                "again": again}
    for spec, answer in zip(specs, web.raw(*specs), strict=True):
        head_only = "".join(spec["pieces"]).startswith("HEAD ")
        problems = cases.framing_problems(answer, head_only)
        if problems:
            expect.fail(_("the request {request}: an answer 'HTTP/1.1 CODE REASON' with one "
                          "Content-Type, one Content-Length (its body's size), 'Connection: "
                          "close', then the server closing the connection").format(request=shown(spec)),
                        "; ".join(problems), f"{status(answer)}\n{web.server_state()}".strip())


@pytest.mark.points(2)
@pytest.mark.rules("R5")
def test_paths_decoded(web):
    """Paths spelt with %XX (any hex case, %2F too), a query, '//' and '/./', '+', UTF-8 names"""
    rng = rng_for(web.ctx, "paths")
    files = web.site["files"]
    dots = next(n for n in files if ".." in n)  # '..' inside a name is no '..' segment
    names = [*rng.sample(sorted(files), 6),
             "docs/c++ notes.txt", "docs/café ½.txt", dots]  # not shown as prose: file names
    pairs = [("/" + cases.percent(rng, urllib.parse.quote(n, safe="/+")), n) for n in names]
    pairs += [("/docs", "docs/index.html"), ("//notes.txt", "notes.txt"),
              ("/./docs/./index.html", "docs/index.html"), ("/docs%2F", "docs/index.html"),
              ("/notes.txt", "notes.txt"), ("/" + dots, dots)]
    # every kind of query (a '?' in it, escapes, '..') on some path: each one ignored
    asked = cases.queries(rng, len(cases.QUERIES))
    pairs += [(t + q, n) for (t, n), q in zip(rng.choices(pairs, k=len(asked)), asked,
                                              strict=True)]
    specs = [varied(rng, "GET", target) for target, _ in pairs]
    for (target, name), answer in zip(pairs, web.raw(*specs), strict=True):
        web.expect_file(answer, name, f"GET {target}")


# (request line, the codes the README's table allows), the first row that applies; the
# request lines are protocol data, quoted as they are in the messages
ORDER = (
    ("DELETE /../secret.txt", (501,)),  # not shown as prose: a request line
    ("BREW /%zz", (501,)), ("PUT /submit", (501,)),
    ("GET /../submit", (403, 400, 404)), ("POST /../submit", (403, 400, 404)),
    ("POST /%zz", (400,)),
    ("POST /index.html", (405,)), ("POST /no-such.html", (405,)),  # not shown as prose: request lines
    ("get /../secret.txt", (501,)),  # not shown as prose: a request line
    ("HEAD /%2e%2e/submit", (403, 400, 404)),
)


@pytest.mark.points(1)
@pytest.mark.rules("R17")
def test_decision_order(web):
    """Several rows apply: the first wins (DELETE /../x is 501, POST /index.html with no length 405)"""
    rng = rng_for(web.ctx, "order")
    chosen = rng.sample(ORDER, len(ORDER))  # all of them, in a seeded order
    specs = [varied(rng, *line.split(" ")) for line, _ in chosen]
    for (line, codes), _spec, answer in zip(chosen, specs, web.raw(*specs), strict=True):
        if answer.get("status") not in codes:
            expect.fail(_("{line} (no Content-Length, no body): the status {codes}, from the first "
                          "row of the table that applies").format(line=line, codes=either(codes)),
                        status(answer), web.server_state())


@pytest.mark.points(2)
@pytest.mark.rules("R2")
def test_request_in_pieces(web, form_values):
    """A head cut anywhere (inside a CRLF too), a pause of seconds; a form body straddling segments"""
    rng = rng_for(web.ctx, "pieces")
    get = request("GET", "/notes.txt", case=lambda n: cases.name_case(rng, n))
    text = get["pieces"][0]
    # the cuts that split a line's CRLF, or the empty line's CRLF CRLF, where a server that
    # looks at each recv() alone goes wrong: always one of each, and one anywhere
    crlf = [i + 1 for i in range(len(text) - 4) if text[i:i + 2] == "\r\n"]
    cut = sorted({rng.choice(crlf), len(text) - rng.randint(1, 3), *cases.split_points(rng, len(text), 1)})
    pauses = [0.0] * len(cut)
    pauses[rng.randrange(len(cut))] = cases.LONG_PAUSE
    get = {**raw_spec(text, cut), "pause": pauses}
    body = urllib.parse.urlencode(form_values)
    length = rng.choice(("content-length", "CONTENT-LENGTH", "content-LENGTH", "Content-length"))
    spaced = rng.choice(("\t", " \t", "\t ", "\t\t"))  # a tab always: spaces are common
    head = (f"POST /submit HTTP/1.1\r\nHost: server\r\n{length}:{spaced}{len(body)}{spaced}\r\n"  # not shown
            "Content-Type: application/x-www-form-urlencoded\r\n\r\n")
    text = head + body
    inside = cases.split_points(rng, len(body), 2)
    post = {"pieces": [text[:len(head) + inside[0]], body[inside[0]:inside[1]], body[inside[1]:]],
            "pause": [cases.PAUSE, 0.1], "ids": ["name", "message"]}
    got, sent = web.raw(get, post)
    web.expect_file(got, "notes.txt", _("GET /notes.txt, its head cut at {cuts} (pauses {pauses} s)").format(
        cuts=cut, pauses=pauses))
    what = _("POST /submit with '{length}:{spaced}{size}{spaced}', the head and {count} bytes of the "
             "body in one segment, the rest in two ({pause:g} s later)").format(
        length=length, spaced=repr(spaced), size=len(body), count=inside[0], pause=cases.PAUSE)
    if sent.get("status") != 200 or sent.get("texts") != form_values:
        expect.fail(_("{what}: '200 OK' and a page showing {values}").format(what=what, values=form_values),
                    _("{status}, showing {texts}").format(status=status(sent), texts=sent.get("texts")),
                    web.server_state())


@pytest.mark.points(1)
@pytest.mark.rules("R19")
def test_form_fields(web, form_values):
    """The form's fields in another order, with an extra field, or one of them absent"""
    rng = rng_for(web.ctx, "fields")
    extra = {"submit": "Send", "x": "1&y=2", "z": ""}
    fields = list({**form_values, **extra}.items())
    rng.shuffle(fields)
    only = rng.choice(("name", "message"))
    bodies = [(urllib.parse.urlencode(fields), form_values),
              (urllib.parse.urlencode({only: form_values[only]}),
               {k: form_values[k] if k == only else "" for k in form_values})]
    bodies.append(("", {"name": "", "message": ""}))  # no field at all: an empty body
    # the path is the target up to any '?': /submit with a query is /submit
    targets = ["/submit", "/submit" + cases.query(rng), "/submit" + rng.choice(("?", "?x=1"))]
    specs = [varied(rng, "POST", t, body=b, ids=["name", "message"],
                    headers={"Content-Type": "application/x-www-form-urlencoded",
                             **({} if b else {"Content-Length": "0"})})
             for t, (b, _) in zip(targets, bodies, strict=True)]
    for target, (body, want), answer in zip(targets, bodies, web.raw(*specs), strict=True):
        if answer.get("status") != 200 or media_type(answer) != "text/html" or \
                answer.get("texts") != want:
            expect.fail(_("POST {target} with the body {body}: '200 OK', an HTML page whose "
                          "elements id=\"name\" and id=\"message\" hold {want} (an absent field "
                          "is empty)").format(target=target, body=repr(body), want=want),
                        _("{status}, showing {texts}").format(status=status(answer),
                                                              texts=answer.get("texts")),
                        web.server_state())


@pytest.mark.points(1)
@pytest.mark.rules("R21")
def test_rude_clients(web):
    """Clients that hang up mid-head, reset mid-answer, or send half a body: the server goes on"""
    half = request("POST", "/submit", body="name=" + "x" * 995,
                   headers={"Content-Type": "application/x-www-form-urlencoded"})
    text = "".join(half["pieces"])
    web.raw({"pieces": ["GET /notes.txt HTTP/1.1\r\nHo"], "hangup": True},  # not shown
            {"pieces": [], "hangup": True},
            {**request("GET", "/data/random.bin"), "reset_after": 2048},
            {"pieces": [text[:len(text) - 500]], "hangup": True},
            {"pieces": ["GET /index.html HTTP/1.1\r\n"], "reset_after": 0})  # not shown
    web.still_serving(_("clients that hung up in the middle of their request, or reset the "
                        "connection in the middle of the answer"))
