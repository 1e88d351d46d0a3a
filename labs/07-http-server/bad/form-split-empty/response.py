"""Lab 7 reference: the bytes of a response head, error pages and the form's answer page.

No sockets here either. Every response says how long its body is (Content-Length, in
bytes: encode first, then count) and that the connection closes after it.
"""

import html
import os
import urllib.parse

REASONS = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found",
           405: "Method Not Allowed", 431: "Request Header Fields Too Large",
           501: "Not Implemented"}
TYPES = {".html": "text/html; charset=utf-8", ".htm": "text/html; charset=utf-8",
         ".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".txt": "text/plain; charset=utf-8", ".json": "application/json",
         ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
         ".gif": "image/gif", ".svg": "image/svg+xml", ".ico": "image/x-icon"}
HTML = "text/html; charset=utf-8"


def content_type(path: str) -> str:
    """The type of a file, from its extension (in any case); unknown ones are just bytes."""
    return TYPES.get(os.path.splitext(path)[1].lower(), "application/octet-stream")


def head(status: int, length: int, kind: str, extra: dict[str, str] | None = None) -> bytes:
    lines = [f"HTTP/1.1 {status} {REASONS[status]}", f"Content-Type: {kind}",
             f"Content-Length: {length}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in (extra or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


def page(status: int, title: str, body: str, extra: dict[str, str] | None = None,
         with_body: bool = True) -> bytes:
    """A whole response: the head, then a small HTML page (not for HEAD: the head only)."""
    text = (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title>"
            f"</head>\n<body>\n{body}\n</body></html>\n").encode()
    return head(status, len(text), HTML, extra) + (text if with_body else b"")


def error(status: int, allow: str = "", with_body: bool = True) -> bytes:
    reason = f"{status} {REASONS[status]}"
    return page(status, reason, f"<h1>{reason}</h1>", {"Allow": allow} if allow else None,
                with_body)


def form_answer(body: bytes) -> bytes:
    """The answer to the form: what was submitted, escaped, so that it shows as text."""
    pairs = dict(pair.split("=", 1) for pair in body.decode().split("&"))
    fields = {k: urllib.parse.unquote_plus(val) for k, val in pairs.items()}
    name, message = (html.escape(fields.get(key, "")) for key in ("name", "message"))
    return page(200, "Thank you", f"<h1>Thank you</h1>\n<p>Name: <span id=\"name\">{name}</span></p>"
                f"\n<p>Message:</p>\n<p id=\"message\">{message}</p>")
