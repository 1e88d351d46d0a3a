"""Untrusted text (program output, folder names) reaches no reader raw: every report shows
control, bidi and undecodable characters as visible escapes."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET

from hypothesis import given
from hypothesis import strategies as st

from socklab.classroom import gradebook, summary
from socklab.grading import formats
from socklab.grading.result import CheckResult, LabResult
from socklab.grading.text import capped, in_html, visible

HOSTILE = "ok\x1b]0;pwned\x07\x1b[2J\rPASS\u202eevil\u2066\x9b31m\x85\ufeff\u200b\udcff"


def test_controls_bidi_and_undecodable_bytes_become_escapes():
    shown = visible(HOSTILE)
    assert shown == ("ok␛]0;pwned␇␛[2J␍PASS\\u202eevil\\u2066\\u009b31m\\u0085\\ufeff\\u200b\\xff")


def test_text_that_is_already_plain_is_kept_as_it_is():
    text = "握手 ok\n\ttab — 粘包 ✓"
    assert visible(text) == text


@given(st.text())
def test_nothing_hidden_survives(text):
    shown = visible(text)
    assert all(c in "\n\t" or (0x20 <= ord(c) < 0x7F) or ord(c) > 0x9F for c in shown)
    assert not any(0xD800 <= ord(c) <= 0xDFFF for c in shown)
    assert "\u202e" not in shown and "\x1b" not in shown


def test_long_lines_are_capped_and_say_so():
    assert capped("x" * 10, 20) == "x" * 10
    assert capped("x" * 1000, 300) == "x" * 300 + " … (700 more characters)"


def _result(text: str) -> LabResult:
    check = CheckResult("test_a", "A", "1.1", "failed", 0, 1, message=text, evidence=text)
    return LabResult("01-tcp-echo", "TCP echo", "code", "failed", [check])


def test_every_format_shows_the_escapes():
    result = _result(HOSTILE)
    for fmt in ("gradescope", "classroom", "prairielearn", "json"):
        text = formats.FORMATS[fmt](result)
        assert "\x1b" not in text and "\u202e" not in text and "\\u202e" in text, fmt
    junit = formats.FORMATS["junit"](result)
    ET.fromstring(junit)  # well-formed although the output held what XML forbids
    assert "\x1b" not in junit


def test_a_hostile_folder_name_reaches_no_spreadsheet_or_page_raw():
    entries = [('=HYPERLINK("x")\x1b[31m\u202e', _result("x")), ("caf\udce9", _result("y"))]
    rows = list(csv.reader(io.StringIO(gradebook.render(entries, 1))))
    assert rows[1][0].startswith("'=") and "\x1b" not in rows[1][0]
    assert rows[2][0] == "caf\\xe9"
    page = summary.page("t", entries, 1, summary.stats(entries))
    assert "\x1b" not in page and "\u202e" not in page and "caf%E9" in page
    assert in_html("<b>") == "&lt;b&gt;"
