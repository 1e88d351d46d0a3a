"""Text from outside socklab made safe to show: program output, file and folder names.

A student's program prints what it likes, and a folder name is whatever an archive held.
Shown raw, a control character drives the reader's terminal (ESC, CSI, OSC), a carriage
return overwrites a line ("PASS" over "FAIL"), a bidi override reorders what a report
says, and a lone surrogate (a name that was not UTF-8) breaks XML and JSON readers. Every
report shows them as visible escapes instead; newline and tab stay.
"""

from __future__ import annotations

import html
import re
import unicodedata

# C0 (but tab and newline), DEL, C1, the Unicode format characters (bidi controls, zero
# widths, the BOM), lone surrogates, and the two non-characters XML forbids.
_HIDDEN = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\ufeff\ufff9-\ufffb\ud800-\udfff\ufffe\uffff]"
)
_PICTURES = {chr(c): chr(0x2400 + c) for c in range(32)} | {"\x7f": "\u2421"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _PICTURES:
        return _PICTURES[char]  # ESC as ␛, CR as ␍: readable, and inert
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8, kept by surrogateescape
        return f"\\x{code - 0xDC00:02x}"
    return _code(char)


def visible(text: str) -> str:
    """``text`` with every character that could hide or drive something shown as an escape."""
    text = _HIDDEN.sub(_escape, text)
    if text.isascii():
        return text
    # the rarer format characters (tags, Arabic and Egyptian format marks ...)
    return "".join(_code(c) if unicodedata.category(c) == "Cf" else c for c in text)


def _code(char: str) -> str:
    code = ord(char)
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def capped(line: str, limit: int = 300) -> str:
    """A line of program output cut to ``limit`` characters, saying how much was cut."""
    if len(line) <= limit:
        return line
    return f"{line[:limit]} … ({len(line) - limit} more characters)"


def in_html(text: str) -> str:
    """``text`` for an HTML page: escaped, with control and bidi characters shown."""
    return html.escape(visible(text))
