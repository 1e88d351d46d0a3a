"""Lab 7: a minimal HTTP/1.1 server on plain sockets.

Usage: python3 server.py PORT ROOT     (try: python3 server.py 8080 www)

Read the lab's README.md first: "The protocol" says what to answer to each request.
This starter listens, reads (part of) a request and answers '501 Not Implemented' to
everything. Each TODO is yours; http.server and other HTTP libraries are not allowed.
"""

import socket
import sys

MAX_HEAD = 8192  # bytes of request line and headers, blank line included
REASONS = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found",
           405: "Method Not Allowed", 431: "Request Header Fields Too Large",
           501: "Not Implemented"}
# The README's table of types, by extension; any other extension: application/octet-stream
TYPES = {".html": "text/html; charset=utf-8", ".htm": "text/html; charset=utf-8",
         ".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".txt": "text/plain; charset=utf-8", ".json": "application/json",
         ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
         ".gif": "image/gif", ".svg": "image/svg+xml", ".ico": "image/x-icon"}


def respond(conn: socket.socket, status: int, body: bytes = b"",
            kind: str = "text/html; charset=utf-8", extra: dict[str, str] | None = None) -> None:
    """Send a whole response: status line, headers, a blank line, then the body (bytes)."""
    lines = [f"HTTP/1.1 {status} {REASONS[status]}", f"Content-Type: {kind}",
             f"Content-Length: {len(body)}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in (extra or {}).items()]
    conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("ascii") + body)


def error_page(status: int) -> bytes:
    return f"<!DOCTYPE html>\n<title>{status}</title><h1>{status} {REASONS[status]}</h1>\n".encode()


def read_head(conn: socket.socket) -> bytes:
    """The request head: the request line and the headers, up to the blank line."""
    # TODO: one recv() may hold half a head, or a head and the start of a body. Loop,
    #       adding to a buffer, until it holds b"\r\n\r\n"; keep what follows it (a POST's
    #       body begins there). Answer 400 to a bare b"\n", 431 to a head over MAX_HEAD.
    return conn.recv(MAX_HEAD)


def handle(conn: socket.socket, root: str) -> None:
    head = read_head(conn)
    request_line = head.split(b"\r\n", 1)[0].decode("ascii", "replace")
    print(f"request: {request_line!r}", flush=True)
    # TODO: split the request line into method, target and version and check them;
    #       read the headers (name: value); answer 400 to anything malformed.
    # TODO: GET and HEAD of a file under root: percent-decode the path, refuse '..'
    #       (403), map a folder to its index.html, 404 if there is no such file; send
    #       the file in pieces, with its Content-Type (TYPES) and Content-Length.
    # TODO: POST /submit: read Content-Length bytes of body, decode the form's fields,
    #       answer a page that shows them, HTML-escaped. 405 and 501 as the README says.
    respond(conn, 501, error_page(501))


def main() -> None:
    port, root = int(sys.argv[1]), sys.argv[2]
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("", port))
    listener.listen()
    print(f"serving {root} on port {port}", flush=True)
    while True:
        conn, _ = listener.accept()
        # TODO: a client that sends its request slowly must not hold up the others:
        #       handle each connection in its own thread (threading.Thread).
        with conn:
            try:
                handle(conn, root)
            except OSError as exc:  # one client's trouble must not stop the server
                print(f"client dropped: {exc}", flush=True)


if __name__ == "__main__":
    main()
