"""Lab 7 reference: reading an HTTP/1.1 request head.

No sockets here: these functions take bytes and return a Request, or raise HttpError
with the status to answer (README: "The protocol").
"""

import re
import string
from dataclasses import dataclass

MAX_HEAD = 8192  # bytes of request line and headers, blank line included
TOKEN = frozenset(string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~")
BARE_LF = re.compile(rb"(?<!\r)\n")


class HttpError(Exception):
    """The request cannot be served: answer ``status`` (and ``allow``, for a 405)."""

    def __init__(self, status: int, allow: str = "") -> None:
        super().__init__(status)
        self.status, self.allow = status, allow


@dataclass(frozen=True)
class Request:
    method: str
    target: str
    version: str
    headers: dict[str, str]  # names in lower case


def head_end(buf: bytes) -> int | None:
    """Where the head in ``buf`` ends (just after its blank line), or None if it has not yet.

    A bare LF is malformed wherever it is, and a head may not outgrow MAX_HEAD: both are
    known before the blank line arrives, so the client waits for nothing.
    """
    end = buf.find(b"\r\n\r\n")
    head = buf if end < 0 else buf[:end + 4]
    if BARE_LF.search(head):
        raise HttpError(400)
    if len(buf) > MAX_HEAD:
        raise HttpError(431)
    return None if end < 0 else end + 4


def parse(head: bytes) -> Request:
    """The request line and headers of a complete head (ending in CRLF CRLF)."""
    try:
        lines = head.decode("ascii").split("\r\n")[:-2]
    except UnicodeDecodeError:
        raise HttpError(400) from None
    parts = lines[0].split(" ")
    if len(parts) != 3:
        raise HttpError(400)
    method, target, version = parts
    if not method or not set(method) <= TOKEN or not target.startswith("/") \
            or version not in ("HTTP/1.0", "HTTP/1.1"):
        raise HttpError(400)
    headers = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon or not name or not set(name) <= TOKEN:
            raise HttpError(400)
        headers[name.lower()] = value.strip(" \t")
    return Request(method, target, version, headers)


def content_length(request: Request) -> int:
    """The body's size: a POST must give it, as digits."""
    value = request.headers.get("content-length", "")
    if not value.isdigit():
        raise HttpError(400)
    return int(value)
