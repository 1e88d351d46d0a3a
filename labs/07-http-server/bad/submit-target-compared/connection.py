"""Lab 7 reference: one connection, from the request's first byte to the close.

All the I/O is here: reading the head and the body, sending the answer and the file. What
to answer is decided without I/O (request.py, paths.py, response.py).
"""

import contextlib
import socket

import response
from paths import file_for, segments
from request import HttpError, Request, content_length, head_end, parse

CHUNK = 64 * 1024
IDLE = 30.0  # seconds a client may stay silent before its connection is dropped


class Closed(Exception):
    """The client went away before its request was whole."""


def read_head(conn: socket.socket) -> tuple[Request, bytes]:
    """The request head, and whatever of the body came with it."""
    buf = b""
    while (end := head_end(buf)) is None:
        chunk = conn.recv(4096)
        if not chunk:
            raise Closed
        buf += chunk
    return parse(buf[:end]), buf[end:]


def read_body(conn: socket.socket, have: bytes, size: int) -> bytes:
    while len(have) < size:
        chunk = conn.recv(min(CHUNK, size - len(have)))
        if not chunk:
            raise Closed
        have += chunk
    return have[:size]


def send_file(conn: socket.socket, path: str, with_body: bool) -> None:
    with open(path, "rb") as f:
        size = f.seek(0, 2)
        conn.sendall(response.head(200, size, response.content_type(path)))
        f.seek(0)
        while with_body and (chunk := f.read(CHUNK)):
            conn.sendall(chunk)


def answer(conn: socket.socket, root: str, request: Request, rest: bytes) -> None:
    if request.method not in ("GET", "HEAD", "POST"):
        raise HttpError(501)
    parts = segments(request.target)
    if request.target == "/submit":
        if request.method != "POST":
            raise HttpError(405, allow="POST")
        conn.sendall(response.form_answer(read_body(conn, rest, content_length(request))))
    elif request.method == "POST":
        raise HttpError(405, allow="GET, HEAD")
    else:
        send_file(conn, file_for(root, parts), with_body=request.method == "GET")


def handle(conn: socket.socket, root: str) -> None:
    # One client's trouble (gone, reset, silent, garbage) ends its connection, never the server.
    with conn, contextlib.suppress(Closed, OSError):
        conn.settimeout(IDLE)
        method = None  # known once the head is parsed: a HEAD's error has no body either
        try:
            request, rest = read_head(conn)
            method = request.method
            answer(conn, root, request, rest)
        except HttpError as exc:
            conn.sendall(response.error(exc.status, exc.allow, with_body=method != "HEAD"))
        # Let the client read the answer before the connection goes: closing with unread
        # bytes (a huge head) would reset it at once, and the answer with it.
        conn.shutdown(socket.SHUT_WR)
        conn.settimeout(1.0)
        while conn.recv(CHUNK):
            pass
