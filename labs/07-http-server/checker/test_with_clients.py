"""Lab 7 checker, with real clients that no one here wrote: curl, Python's http.client,
and a headless Chromium that loads the site's page and sends its form.

They run in the client container (the ``browser`` image) and reach the student's server
through the router; the browser's screenshots are in the run's artifacts.
"""

import urllib.parse

import cases
import pytest
from conftest import BASE, media_type

from socklab.checking import expect
from socklab.i18n import _

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def said(answer):
    """What a client reported, in a line."""
    if answer.get("error"):
        return cases.said(answer["error"])
    if answer.get("exit"):
        return _("curl exited with code {code}: {stderr}").format(code=answer["exit"],
                                                                   stderr=answer["stderr"])
    kind = ", ".join(answer["headers"].get("content-type", [])) or _("no Content-Type")
    return _("status {status}, {kind}, {size} bytes of body").format(
        status=answer["status"], kind=kind, size=answer["body_size"])


def expect_texts(answer, values, what, evidence=""):
    """The answer page shows each submitted value as the text of the element of its name."""
    __tracebackhide__ = True
    texts = answer.get("texts") or {}
    for field, value in values.items():
        if texts.get(field) != value:
            expect.fail(_("{what}: the element with id=\"{field}\" holding the text {value}").format(
                            what=what, field=field, value=repr(value)),
                        _("no element with that id") if texts.get(field) is None
                        else _("the text {text}").format(text=repr(texts[field])), evidence)


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
        expect.fail(_("curl {url}: exit 0, status 200 and the {size} bytes of the file").format(
                        url=f"{BASE}/data/random.bin", size=random_bin["size"]),
                    said(got), web.server_state())
    if head["exit"] or head["status"] != 200 or \
            head["headers"].get("content-length") != [str(logo["size"])]:
        expect.fail(_("curl --head {url}: exit 0, status 200 and 'Content-Length: {size}'").format(
                        url=f"{BASE}/images/logo.png", size=logo["size"]),
                    said(head) if head["exit"] else _("status {status}, headers {headers}").format(
                        status=head["status"], headers=head["headers"]), web.server_state())
    if form["exit"] or form["status"] != 200:
        expect.fail(_("curl {args} {url}: exit 0 and status 200").format(
            args=" ".join(fields), url=f"{BASE}/submit"), said(form))
    expect_texts(form, form_values, _("the page curl got for the form"))


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
            expect.fail(_("http.client GET {path}: status 200 and the {size} bytes of {name}").format(
                path=spec["path"], size=want["size"], name=name), said(answer), web.server_state())
    if form["status"] != 200 or media_type(form) != "text/html":
        expect.fail(_("http.client POST /submit: status 200 and an HTML page"), said(form),
                    web.server_state())
    expect_texts(form, form_values, _("the page http.client got for the form"))


def heading(text):
    if text is None:
        return _("no element with id=\"title\"")
    return _("the heading {text}").format(text=repr(text))


def shots(visit):
    files = ", ".join(visit[k] for k in ("page_png", "answer_png") if k in visit)
    return _("screenshots: {files}").format(files=files or _("none could be taken"))


@pytest.mark.points(2)
@pytest.mark.timeout(120)  # the browser takes its time to start on a busy machine
@pytest.mark.rules("R5", "R6")
def test_browser_page(visit, site):
    """Chromium loads the page: its heading, its stylesheet's colour, its image"""
    title, rgb, logo = f"Café {site['token']}", "rgb({}, {}, {})".format(*site["rgb"]), site["logo"]
    if visit["stage"] == "load" or visit.get("title") != title:
        expect.fail(_("Chromium at {url}: the page's heading (id=\"title\") reading {title}").format(
                        url=f"{BASE}/", title=repr(title)),
                    visit["error"] if visit["stage"] == "load" else
                    _("{heading} at {url}").format(heading=heading(visit.get("title")), url=visit.get("url")),
                    shots(visit))
    if visit.get("color") != rgb:
        expect.fail(_("the heading in the colour /style.css gives it, {rgb} (the stylesheet "
                      "loaded, served as text/css)").format(rgb=rgb),
                    _("the colour {color}").format(color=visit.get("color")), shots(visit))
    if visit.get("logo") != logo:
        expect.fail(_("the image /images/logo.png loaded, {width} x {height} pixels").format(
                        width=logo[0], height=logo[1]),
                    str(visit.get("logo") or _("no image loaded")), shots(visit))


@pytest.mark.points(2)
@pytest.mark.timeout(120)
@pytest.mark.rules("R19")
def test_browser_form(visit, form_values):
    """Chromium fills in the form and sends it: the answer page shows what it typed"""
    what = _("Chromium typing {values} into the form and sending it").format(values=form_values)
    if visit["stage"] != "done":
        expect.fail(_("{what}: an answer page from /submit").format(what=what),
                    visit["error"] or _("the page never loaded"), shots(visit))
    if urllib.parse.urlsplit(visit["answer_url"]).path != "/submit":
        expect.fail(_("{what}: the answer at {url}").format(what=what, url=f"{BASE}/submit"),
                    f"{visit['answer_url']}", shots(visit))
    expect_texts(visit, form_values, what, shots(visit))
