"""Lab 7 HTTP server: a thread per connection, the request read through makefile("rb").

Design: ``conn.makefile("rb")`` gives a buffered reader; the head is read line by line
with ``readline(limit)``, so a bare LF is seen the moment its line arrives and a head
that never ends is cut off at 8192 bytes. The body of a POST is ``read(n)`` from the
same reader (the bytes that came with the head are in its buffer). Files go out with
``f.read(65536)`` + ``sendall``. After each answer: ``shutdown(SHUT_WR)`` and a short
drain, so that a client still sending does not get a reset that eats the answer.

Usage: python3 server.py PORT ROOT
"""

import html
import os
import re
import socket
import sys
import threading
import time
from urllib.parse import unquote_to_bytes

MAX_HEAD = 8192
CHUNK = 64 * 1024
TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
REASONS = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found",
           405: "Method Not Allowed", 431: "Request Header Fields Too Large",
           501: "Not Implemented"}
TYPES = {".html": "text/html; charset=utf-8", ".htm": "text/html; charset=utf-8",
         ".css": "text/css", ".js": "text/javascript", ".txt": "text/plain; charset=utf-8",
         ".json": "application/json", ".png": "image/png", ".jpg": "image/jpeg",
         ".jpeg": "image/jpeg", ".gif": "image/gif", ".svg": "image/svg+xml",
         ".ico": "image/x-icon"}


class Reject(Exception):
    def __init__(self, status: int, allow: str | None = None) -> None:
        super().__init__(status)
        self.status, self.allow = status, allow


def read_head(rfile, seen: bytearray) -> list[bytes]:
    """The head's lines, without their CRLF; raises Reject(400/431)."""
    lines, used = [], 0
    while True:
        room = MAX_HEAD - used
        if room <= 0:
            raise Reject(431)
        line = rfile.readline(room)
        seen += line
        if not line:
            raise ConnectionResetError("closed before the end of the head")
        used += len(line)
        if b"\n" in line and not line.endswith(b"\r\n"):
            raise Reject(400)
        if any(b > 0x7F for b in line):
            raise Reject(400)  # not ASCII: no need to wait for the rest
        if not line.endswith(b"\n"):
            if used >= MAX_HEAD:
                raise Reject(431)
            raise ConnectionResetError("closed in the middle of a line")
        if line == b"\r\n":
            return lines
        lines.append(line[:-2])


def parse(lines: list[bytes]) -> tuple[str, str, dict[str, list[str]]]:
    text = [line.decode("ascii") for line in lines]
    if not text:
        raise Reject(400)
    parts = text[0].split()
    if len(parts) != 3:
        raise Reject(400)
    method, target, version = parts
    if not TOKEN.fullmatch(method) or not target.startswith("/") \
            or version not in ("HTTP/1.0", "HTTP/1.1"):
        raise Reject(400)
    headers: dict[str, list[str]] = {}
    for line in text[1:]:
        name, colon, value = line.partition(":")
        if not colon or not TOKEN.fullmatch(name):
            raise Reject(400)
        headers.setdefault(name.lower(), []).append(value.strip(" \t"))
    return method, target, headers


def segments_of(target: str) -> list[str]:
    path = target.split("?", 1)[0]
    if BAD_ESCAPE.search(path):
        raise Reject(400)
    raw = unquote_to_bytes(path)
    if b"\0" in raw:
        raise Reject(400)
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Reject(400) from None
    parts = decoded.split("/")
    if ".." in parts:
        raise Reject(403)
    return [p for p in parts if p not in ("", ".")]


def form_field(body: bytes, key: str) -> str:
    for pair in body.split(b"&"):
        k, _, v = pair.partition(b"=")
        if unquote_to_bytes(k.replace(b"+", b" ")).decode("utf-8", "replace") == key:
            return unquote_to_bytes(v.replace(b"+", b" ")).decode("utf-8", "replace")
    return ""


def send(conn, status: int, body: bytes, kind: str = "text/html; charset=utf-8",
         allow: str | None = None, head_only: bool = False, length: int | None = None) -> None:
    lines = [f"HTTP/1.1 {status} {REASONS[status]}", f"Content-Type: {kind}",
             f"Content-Length: {len(body) if length is None else length}",
             "Connection: close"]
    if allow:
        lines.append(f"Allow: {allow}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")
    conn.sendall(head if head_only else head + body)


def error(conn, status: int, allow: str | None = None, head_only: bool = False) -> None:
    page = f"<!DOCTYPE html>\n<title>{status}</title>\n<h1>{status} {REASONS[status]}</h1>\n"
    send(conn, status, page.encode(), allow=allow, head_only=head_only)


def answer(conn, rfile, root: str) -> None:
    method = None
    seen = bytearray()
    try:
        method, target, headers = parse(read_head(rfile, seen))
        if method not in ("GET", "HEAD", "POST"):
            raise Reject(501)
        segs = segments_of(target)
        if segs == ["submit"]:
            if method != "POST":
                raise Reject(405, "POST")
            lengths = headers.get("content-length", [])
            if not lengths or len(set(lengths)) != 1 or not re.fullmatch(r"[0-9]+", lengths[0]):
                raise Reject(400)
            body = rfile.read(int(lengths[0]))
            name = html.escape(form_field(body, "name"), quote=True)
            message = html.escape(form_field(body, "message"), quote=True)
            page = ("<!DOCTYPE html>\n<meta charset=\"utf-8\"><title>Thanks</title>\n"
                    f"<p>Name: <span id=\"name\">{name}</span></p>\n"
                    f"<p id=\"message\">{message}</p>\n").encode()
            send(conn, 200, page)
            return
        if method == "POST":
            raise Reject(405, "GET, HEAD")
        serve_file(conn, root, segs, method == "HEAD")
    except Reject as r:
        # a HEAD gets no body, even when its head is broken further on
        error(conn, r.status, r.allow, head_only=seen.startswith(b"HEAD "))


def serve_file(conn, root: str, segs: list[str], head_only: bool) -> None:
    path = os.path.join(root, *segs)
    if os.path.isdir(path):
        path = os.path.join(path, "index.html")
    try:
        f = open(path, "rb")  # noqa: SIM115 (closed below)
    except OSError:
        raise Reject(404) from None
    with f:
        if not os.path.isfile(path):
            raise Reject(404)
        size = os.fstat(f.fileno()).st_size
        kind = TYPES.get(os.path.splitext(path)[1].lower(), "application/octet-stream")
        send(conn, 200, b"", kind, head_only=True, length=size)
        if head_only:
            return
        while chunk := f.read(CHUNK):
            conn.sendall(chunk)


def handle(conn: socket.socket, root: str) -> None:
    with conn:
        try:
            conn.settimeout(30)
            with conn.makefile("rb") as rfile:
                answer(conn, rfile, root)
            conn.shutdown(socket.SHUT_WR)
            conn.settimeout(1)
            deadline = time.monotonic() + 2
            # let a client that is still sending see our answer before we close
            while conn.recv(CHUNK) and time.monotonic() < deadline:
                pass
        except OSError as exc:
            print(f"connection ended: {exc!r}", flush=True)


def main() -> None:
    port, root = int(sys.argv[1]), sys.argv[2]
    listener = socket.create_server(("", port), reuse_port=False, backlog=64)
    print(f"serving {root} on port {port}", flush=True)
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=handle, args=(conn, root), daemon=True).start()


if __name__ == "__main__":
    main()
