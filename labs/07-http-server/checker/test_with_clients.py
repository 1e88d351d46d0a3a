"""Lab 7 checker, with real clients that no one here wrote: curl, Python's http.client,
and a headless Chromium that loads the site's page and sends its form.

They run in the client container (the ``browser`` image) and reach the student's server
through the router; the browser's screenshots are in the run's artifacts.
"""

import urllib.parse

import pytest
from conftest import BASE, media_type

from socklab.checking import expect

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def said(answer):
    """What a client reported, in a line."""
    if answer.get("error"):
        return answer["error"]
    if answer.get("exit"):
        return f"curl exited with code {answer['exit']}: {answer['stderr']}"
    kind = ", ".join(answer["headers"].get("content-type", [])) or "no Content-Type"
    return f"status {answer['status']}, {kind}, {answer['body_size']} bytes of body"


def expect_texts(answer, values, what, evidence=""):
    """The answer page shows each submitted value as the text of the element of its name."""
    __tracebackhide__ = True
    texts = answer.get("texts") or {}
    for field, value in values.items():
        if texts.get(field) != value:
            expect.fail(f"{what}: the element with id=\"{field}\" holding the text {value!r}",
                        "no element with that id" if texts.get(field) is None
                        else f"the text {texts[field]!r}", evidence)


@pytest.mark.points(2)
@pytest.mark.rules("R5", "R7", "R19")
def test_curl(web, form_values):
    """curl downloads a binary file whole, asks HEAD, and sends the form"""
    random_bin, logo = web.file("data/random.bin"), web.file("images/logo.png")
    fields = [arg for key, value in form_values.items()
              for arg in ("--data-urlencode", f"{key}={value}")]
    got, head, form = web.clients("curl", [
        {"url": f"{BASE}/data/random.bin", "args": []},
        {"url": f"{BASE}/images/logo.png", "args": ["--head"]},
        {"url": f"{BASE}/submit", "args": fields, "ids": list(form_values)}])
    if got["exit"] or got["status"] != 200 or got["body_sha256"] != random_bin["sha256"]:
        expect.fail(f"curl {BASE}/data/random.bin: exit 0, status 200 and the "
                    f"{random_bin['size']} bytes of the file", said(got), web.server_state())
    if head["exit"] or head["status"] != 200 or \
            head["headers"].get("content-length") != [str(logo["size"])]:
        expect.fail(f"curl --head {BASE}/images/logo.png: exit 0, status 200 and "
                    f"'Content-Length: {logo['size']}'",
                    said(head) if head["exit"] else f"status {head['status']}, headers "
                    f"{head['headers']}", web.server_state())
    if form["exit"] or form["status"] != 200:
        expect.fail(f"curl {' '.join(fields)} {BASE}/submit: exit 0 and status 200", said(form))
    expect_texts(form, form_values, "the page curl got for the form")


@pytest.mark.points(2)
@pytest.mark.rules("R3", "R5", "R19")
def test_http_client(web, form_values):
    """Python's http.client reads files by their Content-Length and sends the form"""
    specs = [{"method": "GET", "path": "/notes.txt"}, {"method": "GET", "path": "/index.html"},
             {"method": "POST", "path": "/submit", "headers": FORM, "ids": list(form_values),
              "body": urllib.parse.urlencode(form_values)}]
    *files, form = web.clients("pyclient", specs)
    for spec, answer, name in zip(specs, files, ("notes.txt", "index.html"), strict=False):
        want = web.file(name)
        if answer["status"] != 200 or answer["body_sha256"] != want["sha256"]:
            expect.fail(f"http.client GET {spec['path']}: status 200 and the {want['size']} "
                        f"bytes of {name}", said(answer), web.server_state())
    if form["status"] != 200 or media_type(form) != "text/html":
        expect.fail("http.client POST /submit: status 200 and an HTML page", said(form),
                    web.server_state())
    expect_texts(form, form_values, "the page http.client got for the form")


def heading(text):
    return "no element with id=\"title\"" if text is None else f"the heading {text!r}"


def shots(visit):
    return "screenshots: " + (", ".join(visit[k] for k in ("page_png", "answer_png") if k in visit)
                              or "none could be taken")


@pytest.mark.points(2)
@pytest.mark.timeout(120)  # the browser takes its time to start on a busy machine
@pytest.mark.rules("R5", "R6")
def test_browser_page(visit, site):
    """Chromium loads the page: its heading, its stylesheet's colour, its image"""
    title, rgb, logo = f"Café {site['token']}", "rgb({}, {}, {})".format(*site["rgb"]), site["logo"]
    if visit["stage"] == "load" or visit.get("title") != title:
        expect.fail(f"Chromium at {BASE}/: the page's heading (id=\"title\") reading {title!r}",
                    visit["error"] if visit["stage"] == "load" else
                    f"{heading(visit.get('title'))} at {visit.get('url')}",
                    shots(visit))
    if visit.get("color") != rgb:
        expect.fail(f"the heading in the colour /style.css gives it, {rgb} (the stylesheet "
                    f"loaded, served as text/css)", f"the colour {visit.get('color')}", shots(visit))
    if visit.get("logo") != logo:
        expect.fail(f"the image /images/logo.png loaded, {logo[0]} x {logo[1]} pixels",
                    f"{visit.get('logo') or 'no image loaded'}", shots(visit))


@pytest.mark.points(2)
@pytest.mark.timeout(120)
@pytest.mark.rules("R19")
def test_browser_form(visit, form_values):
    """Chromium fills in the form and sends it: the answer page shows what it typed"""
    what = f"Chromium typing {form_values} into the form and sending it"
    if visit["stage"] != "done":
        expect.fail(f"{what}: an answer page from /submit",
                    visit["error"] or "the page never loaded", shots(visit))
    if urllib.parse.urlsplit(visit["answer_url"]).path != "/submit":
        expect.fail(f"{what}: the answer at {BASE}/submit", f"{visit['answer_url']}", shots(visit))
    expect_texts(visit, form_values, what, shots(visit))
