"""Lab 7 HTTP server: threads, recv_into() a fixed buffer, socket.sendfile() for files.

Design: each connection has its own thread and one preallocated 8192-byte bytearray;
``recv_into`` a memoryview of its free part fills it, so the head can never outgrow the
limit (a full buffer without an empty line is the oversized head). After every
``recv_into`` the new bytes are scanned for a bare LF and for non-ASCII bytes. Files are
sent by the kernel with ``socket.sendfile``. The choices the README leaves open are
taken the other way from the usual: ``400`` (not ``431``) for an oversized head,
``404`` (not ``403``) for a ``..`` segment, and only the literal path ``/submit`` is
the form (``//submit`` is a file path, a 404).

Usage: python3 server.py PORT ROOT
"""

import os
import re
import socket
import sys
import threading
from html import escape
from urllib.parse import parse_qs, unquote_to_bytes

LIMIT = 8192
HEAD_END = b"\r\n\r\n"
BARE_LF = re.compile(rb"(?<!\r)\n")
NOT_ASCII = re.compile(rb"[\x80-\xff]")
TOKEN = r"[-!#$%&'*+.^_`|~0-9A-Za-z]+"
REQUEST_LINE = re.compile(rf"({TOKEN}) (/[^ ]*) (HTTP/1\.[01])")
HEADER = re.compile(rf"({TOKEN}):[ \t]*(.*?)[ \t]*")
ESCAPE_OK = re.compile(r"(?:[^%]|%[0-9a-fA-F]{2})*")
PHRASE = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found",
          405: "Method Not Allowed", 501: "Not Implemented"}
KINDS = {"html": "text/html", "htm": "text/html", "css": "text/css",
         "js": "text/javascript", "txt": "text/plain", "json": "application/json",
         "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif",
         "svg": "image/svg+xml", "ico": "image/x-icon"}


class Answer(Exception):
    """An error answer, decided before the end of the work."""

    def __init__(self, code: int, extra: str = "") -> None:
        super().__init__(code)
        self.code, self.extra = code, extra


def head_bytes(conn: socket.socket, buf: bytearray) -> tuple[bytes, bytes]:
    """(head, the bytes after it) or Answer(400)."""
    view, filled = memoryview(buf), 0
    while True:
        if filled == LIMIT:
            raise Answer(400)  # 8192 bytes and no empty line: 400 is allowed for this
        n = conn.recv_into(view[filled:])
        if n == 0:
            raise EOFError
        filled += n
        seen = bytes(buf[:filled])
        end = seen.find(HEAD_END)
        head = seen if end < 0 else seen[:end + 4]  # what follows the head may be a body
        if BARE_LF.search(head) or NOT_ASCII.search(head):
            raise Answer(400)  # at once: the empty line may never come
        if end >= 0:
            return seen[:end + 2], seen[end + 4:]


def respond(conn: socket.socket, code: int, body: bytes, kind: str, method: str,
            extra: str = "", size: int | None = None) -> None:
    length = len(body) if size is None else size
    head = (f"HTTP/1.1 {code} {PHRASE[code]}\r\nContent-Type: {kind}\r\n"
            f"Content-Length: {length}\r\nConnection: close\r\n{extra}\r\n")
    conn.sendall(head.encode() + (b"" if method == "HEAD" else body))


def path_parts(target: str) -> list[str]:
    path = target.partition("?")[0]
    if not ESCAPE_OK.fullmatch(path):
        raise Answer(400)
    try:
        text = unquote_to_bytes(path).decode("utf-8")
    except UnicodeDecodeError:
        raise Answer(400) from None
    if "\0" in text:
        raise Answer(400)
    parts = text.split("/")
    if ".." in parts:
        raise Answer(404)
    return parts


def handle(conn: socket.socket, root: str) -> None:
    method = "GET"
    buf = bytearray(LIMIT)
    try:
        head, rest = head_bytes(conn, buf)
        lines = head.decode("ascii").split("\r\n")[:-1]
        first = REQUEST_LINE.fullmatch(lines[0])
        if not first:
            raise Answer(400)
        fields: dict[str, str] = {}
        for line in lines[1:]:
            m = HEADER.fullmatch(line)
            if not m:
                raise Answer(400)
            fields[m[1].lower()] = m[2]
        method, target = first[1], first[2]
        if method not in ("GET", "HEAD", "POST"):
            method = "GET"
            raise Answer(501)
        parts = path_parts(target)
        if "/".join(parts) == "/submit":  # decoded, but not normalised
            if method != "POST":
                raise Answer(405, "Allow: POST\r\n")
            form(conn, fields, rest)
        elif method == "POST":
            raise Answer(405)
        else:
            send_file(conn, root, [p for p in parts if p not in ("", ".")], method)
    except Answer as a:
        if buf.startswith(b"HEAD "):
            method = "HEAD"  # even a broken HEAD request gets its answer without a body
        page = f"<html><body><h1>{a.code} {PHRASE[a.code]}</h1></body></html>\n".encode()
        respond(conn, a.code, page, "text/html", method, a.extra)


def form(conn: socket.socket, fields: dict[str, str], rest: bytes) -> None:
    length = fields.get("content-length", "")
    if not (length.isascii() and length.isdigit()):
        raise Answer(400)
    body, want = bytearray(rest), int(length)
    while len(body) < want:
        more = conn.recv(want - len(body))
        if not more:
            raise EOFError
        body += more
    values = parse_qs(bytes(body[:want]).decode("utf-8", "replace"), keep_blank_values=True,
                      encoding="utf-8", errors="replace")
    name, message = (escape(values.get(k, [""])[0]) for k in ("name", "message"))
    page = (f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body>"
            f"<p>Name: <span id=\"name\">{name}</span></p>"
            f"<p id=\"message\">{message}</p></body></html>").encode()
    respond(conn, 200, page, "text/html; charset=utf-8", "POST")


def send_file(conn: socket.socket, root: str, parts: list[str], method: str) -> None:
    path = os.path.join(root, *parts)
    if os.path.isdir(path):
        path = os.path.join(path, "index.html")
    if not os.path.isfile(path):
        raise Answer(404)
    kind = KINDS.get(os.path.splitext(path)[1][1:].lower(), "application/octet-stream")
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        respond(conn, 200, b"", kind, "HEAD", size=size)
        if method != "HEAD" and size:
            conn.sendfile(f)


def connection(conn: socket.socket, root: str) -> None:
    try:
        handle(conn, root)
        conn.shutdown(socket.SHUT_WR)
        conn.settimeout(0.5)
        for _ in range(64):  # drain what a client still sends, so close() sends no reset
            if not conn.recv(65536):
                break
    except (OSError, EOFError, UnicodeDecodeError):
        pass
    finally:
        conn.close()


def main() -> None:
    port, root = int(sys.argv[1]), sys.argv[2]
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("0.0.0.0", port))
    sock.listen(128)
    while True:
        conn, _ = sock.accept()
        threading.Thread(target=connection, args=(conn, root), daemon=True).start()


if __name__ == "__main__":
    main()
