"""Lab 7's fixtures and helpers: the checker's site on the server, and clients for it.

The probes (``socklab/probes/``, at /socklab/ in the containers): ``http_site.py`` writes
the seeded site into the server's web root as the student user; ``http_probe.py`` makes
requests from the client container through the router: raw bytes, curl, http.client. The browser
(``socklab/probes/browser.py``) is a real headless Chromium in the client container.
These helpers run them and turn what they saw into expected-vs-observed failures.
"""

from __future__ import annotations

import base64
import functools
import itertools
import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cases
import pytest

from socklab.checking import expect, observe
from socklab.checking.programs import STUDENT
from socklab.i18n import _

PORT = 8080
ROOT = "/scratch/www"
OUTSIDE = "/scratch/secret.txt"  # just outside the web root: never to be served
BASE = f"http://server:{PORT}"
BOUND = 5.0  # seconds a client may wait for an answer its request deserves at once
# The README's table: the media type for each extension (parameters such as charset aside).
TYPES = {".html": "text/html", ".htm": "text/html", ".css": "text/css",
         ".js": "text/javascript", ".txt": "text/plain", ".json": "application/json",
         ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
         ".gif": "image/gif", ".svg": "image/svg+xml", ".ico": "image/x-icon"}
OCTETS = "application/octet-stream"


def request(method: str, target: str, *, headers: dict[str, str] | None = None,
            body: str = "", pieces: int = 1, pause: float | list[float] = 0.0,
            version: str = "HTTP/1.1", connection: str | None = "close",
            case: Callable[[str], str] = str, cuts: list[int] | None = None,
            **options: Any) -> dict[str, Any]:
    """A well-formed request's raw spec for the probe; the body (if any) in ``pieces``, or
    the whole request cut at the offsets ``cuts``. ``connection`` None sends no Connection
    header (HTTP/1.1's default: keep the connection open); ``case`` spells header names."""
    lines = [f"{method} {target} {version}", f"{case('Host')}: server",
             *([f"{case('Connection')}: {connection}"] if connection else []),
             *(f"{case(k)}: {v}" for k, v in (headers or {}).items())]
    if body:
        lines.append(f"{case('Content-Length')}: {len(body.encode())}")
    head, data = "\r\n".join(lines) + "\r\n\r\n", body.encode().decode("latin-1")
    if cuts is not None:
        text = head + data
        edges = [0, *sorted(c for c in set(cuts) if 0 < c < len(text)), len(text)]
        return {"pieces": [text[a:b] for a, b in itertools.pairwise(edges)], "pause": pause,
                **options}
    size = -(-len(data) // pieces) if data else 0
    parts = [head + data] if pieces == 1 else [head, *(data[i:i + size] for i in
                                                        range(0, len(data), size))]
    return {"pieces": parts, "pause": pause, **options}


def varied(rng: random.Random, method: str, target: str, **kwargs: Any) -> dict[str, Any]:
    """A request in a seeded style: HTTP/1.0 or 1.1, any Connection header or none,
    header names in any case, a header to ignore whose name is a token with punctuation.
    A request that keeps its connection open sends a second request on it once answered,
    as a keep-alive client does: the server must have closed instead (R4)."""
    style = {"version": rng.choice(("HTTP/1.1", "HTTP/1.0")),
             "connection": cases.connection_header(rng),
             "case": lambda name: cases.name_case(rng, name)}
    headers = {cases.token_name(rng): cases.header_value(rng), **kwargs.pop("headers", {})}
    spec = request(method, target, headers=headers, **{**style, **kwargs})
    if style["connection"] != "close" and "again" not in spec:
        spec["again"] = "GET /notes.txt HTTP/1.1\r\nHost: server\r\n\r\n"  # not shown
    return spec


def rng_for(ctx: Any, what: str) -> random.Random:
    """A seeded stream for one check: the same inputs for the same seed."""
    return random.Random(f"lab7-{what}-{ctx.seed}")


def raw(text: str) -> dict[str, Any]:
    """A request sent exactly as written (any bytes, as latin-1 text)."""
    return {"pieces": [text]}


def shown(spec: dict[str, Any]) -> str:
    """A request as a student can read it: its bytes, escapes and all."""
    text = "".join(spec["pieces"])
    return repr(text[:120] + ("..." if len(text) > 120 else ""))


def first_line(spec: dict[str, Any]) -> str:
    return "".join(spec["pieces"]).partition("\r\n")[0]


def media_type(answer: dict[str, Any]) -> str | None:
    values = answer.get("headers", {}).get("content-type", [])
    return values[0].partition(";")[0].strip().lower() if values else None


def type_for(name: str) -> str:
    suffix = Path(name).suffix.lower()
    return TYPES.get(suffix, OCTETS)


def either(codes: Any) -> str:
    """Status codes as alternatives: '403 or 400 or 404'."""
    return functools.reduce(lambda a, b: _("{first} or {second}").format(first=a, second=b), map(str, codes))


def status(answer: dict[str, Any]) -> str:
    """What came back, in a line: the status line and headers, or why there were none."""
    if answer.get("status") is None:
        why = cases.said(answer.get("problem")) or _("no answer")
        return f"{why}" + (f" ({cases.said(answer['error'])})" if answer.get("error") else "") + \
            (f": {answer['head']!r}" if answer.get("head") else "")
    return repr(answer["head"])[:400]


class Web:
    """The student's server over the checker's site, and the checker's clients for it."""

    def __init__(self, ctx: Any, programs: Any, site: dict[str, Any]) -> None:
        self.ctx, self.programs, self.site = ctx, programs, site
        self.client = ctx.container("client")

    def probe(self, *args: str, timeout: float = 60.0) -> dict[str, Any]:
        return observe.probe(self.client, *args, script="http_probe.py", timeout=timeout)

    def raw(self, *specs: dict[str, Any]) -> list[dict[str, Any]]:
        """Each request sent as raw bytes on its own connection, and its answer as it came."""
        seen = self.probe("raw", "--host", "server", "--port", str(PORT),
                          "--spec", json.dumps(list(specs)), timeout=len(specs) * 15 + 30)
        return seen["answers"]

    def clients(self, kind: str, specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Requests made by a real client: ``curl`` or ``pyclient`` (Python's http.client)."""
        where = [] if kind == "curl" else ["--host", "server", "--port", str(PORT)]
        return self.probe(kind, *where, "--spec", json.dumps(specs),
                          timeout=len(specs) * 15 + 30)["answers"]

    def file(self, name: str) -> dict[str, Any]:
        return self.site["files"][name]

    def server_state(self) -> str:
        """Evidence: whether the server process died, and its last words."""
        if self.programs.alive("server"):
            return ""
        return _("the server process has exited") + "\n" + self.programs.tail("server")

    def still_serving(self, after: str) -> None:
        """The server still runs and answers GET / with index.html."""
        __tracebackhide__ = True
        answer = self.raw(request("GET", "/"))[0]
        if answer.get("status") != 200 or answer.get("body_sha256") != self.file("index.html")["sha256"]:
            expect.fail(_("after {after}: the server still running, answering GET / with index.html").format(
                after=after), status(answer), self.server_state())

    def expect_file(self, answer: dict[str, Any], name: str, what: str) -> None:
        """A 200 answer whose body is the site's file ``name``, byte for byte."""
        __tracebackhide__ = True
        want = self.file(name)
        if answer.get("status") != 200:
            expect.fail(_("{what}: '200 OK' and the file {name}").format(what=what, name=name),
                        status(answer), self.server_state())
        if answer["body_sha256"] != want["sha256"]:
            expect.fail(_("{what}: the {size} bytes of {name} (SHA-256 {sha}...)").format(
                            what=what, size=want["size"], name=name, sha=want["sha256"][:16]),
                        _("{size} bytes after the head (SHA-256 {sha}...), starting {start}").format(
                            size=answer["body_size"], sha=answer["body_sha256"][:16],
                            start=repr(answer["body_start"][:60]))
                        + (f" ({cases.said(answer['error'])})" if answer.get("error") else ""))


@pytest.fixture(scope="session")
def site(ctx: Any) -> dict[str, Any]:
    """The checker's site in the server's web root, written as the student; seeded. Its
    secret is just outside the root, and in a folder beside it whose name starts with the
    root's ('www-old'): a path check by string prefix lets that one out."""
    beside = ROOT + rng_for(ctx, "beside").choice(("-old", "2", ".bak", "_private", "-site"))
    seen = observe.probe(ctx.container("server"), "--root", ROOT, "--outside", OUTSIDE,
                         "--beside", beside, "--seed", str(ctx.seed or 0),
                         script="http_site.py", user=STUDENT)
    return {**seen, "beside": beside.rpartition("/")[2]}


@pytest.fixture
def web(ctx: Any, programs: Any, site: dict[str, Any]) -> Web:
    """The student's server running (restarted if it died) over the checker's site."""
    programs.ensure("server")
    return Web(ctx, programs, site)


@pytest.fixture(scope="session")
def form_values(ctx: Any) -> dict[str, str]:
    """What the clients type into the form: markup, entities, a plus, non-ASCII, seeded."""
    tag = f"{random.Random(ctx.seed).randrange(10 ** 6):06d}"
    return {"name": f"Zoë <b>&amp; {tag}</b>",
            "message": f"Héllo + wörld ✓ 50% <i>{tag}</i> & co"}  # not shown as prose: form data


@pytest.fixture(scope="session")
def visit(ctx: Any, programs: Any, site: dict[str, Any], form_values: dict[str, str]) -> dict[str, Any]:
    """One visit of the real browser: the page, then the form filled in and sent.

    Its screenshots go to the run's artifacts (browser-page.png, browser-form.png).
    """
    programs.ensure("server")
    seen = observe.probe(ctx.container("client"), "--url", f"{BASE}/", "--name",
                         form_values["name"], "--message", form_values["message"],
                         script="browser.py", timeout=80)
    for key, file in (("page_png", "browser-page.png"), ("answer_png", "browser-form.png")):
        if seen.get(key):
            path = Path(ctx.artifacts) / file
            path.write_bytes(base64.b64decode(seen.pop(key)))
            seen[key] = str(path)
    return seen
