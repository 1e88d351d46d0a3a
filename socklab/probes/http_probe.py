"""Lab 7's probe: HTTP clients for the student's server (its site: http_site.py).

Runs in the client container (stdlib only; ``curl`` is the real one) and prints one
JSON object:

  http_probe.py raw   --host H --port P --spec JSON        requests as raw bytes, one by one
  http_probe.py slow  --host H --port P --spec JSON --bound S   a request stalled mid-head
  http_probe.py huge  --host H --port P --size N [--one-line]   a head that never ends
  http_probe.py pyclient --host H --port P --spec JSON     requests made by http.client
  http_probe.py curl  --spec JSON                          requests made by curl

A raw request's spec is ``{"pieces": [TEXT...], "pause": SECONDS}``: each piece (a
latin-1 string, so any byte) is sent on its own, ``pause`` apart (or, a list, one pause
per gap). Every answer is read until the server closes the connection, or IDLE seconds
pass without a byte, or CLOSE_WAIT seconds pass after the whole answer came (its head
and ``Content-Length`` bytes; the head alone for ``HEAD``), and reported as it came:
status line, headers, the body's size and SHA-256, and, for an HTML body, the text of
the elements the spec's ``ids`` name and which ``find`` strings occur. A rude client:
``"hangup": true`` closes right after sending, ``"reset_after": N`` resets the
connection after N bytes of the answer. ``"again": TEXT`` is a keep-alive client: once
the whole answer has come it sends TEXT, a second request, on the same connection; every
byte that comes after the first answer is reported as ``after`` (the server must have
closed instead: one request per connection).
"""

from __future__ import annotations

import argparse
import hashlib
import html.parser
import http.client
import json
import os
import select
import socket
import struct
import subprocess
import sys
import tempfile
import time

try:  # in a lab container the probes sit side by side (/socklab)
    from bounded import KEEP, overflowed, read_until, stopped
except ImportError:  # imported from the socklab package (the unit tests)
    from socklab.probes.bounded import KEEP, overflowed, read_until, stopped

IDLE = 5.0  # seconds without a byte from the server before the probe stops waiting
ANSWER_TIME = 3 * IDLE  # seconds for a whole answer: a server that trickles bytes without end
MOST = (256 << 10) + KEEP  # bytes of an answer kept: the site's largest file (200 KiB), and KEEP
CLOSE_WAIT = 2.5  # seconds after the whole answer within which the server must close
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


# --- reading what came back -----------------------------------------------------------------


class Texts(html.parser.HTMLParser):
    """The text inside each element whose id is wanted (its textContent, as a browser has it)."""

    def __init__(self, ids: list[str]) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: dict[str, str | None] = dict.fromkeys(ids)
        self.open: list[list] = []  # [id, depth, pieces] of the wanted elements we are inside

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in VOID:
            return
        for entry in self.open:
            entry[1] += 1
        ident = dict(attrs).get("id")
        if ident in self.texts and self.texts[ident] is None:
            self.open.append([ident, 1, []])

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        for entry in list(self.open):
            entry[1] -= 1
            if entry[1] == 0:
                self.texts[entry[0]] = "".join(entry[2])
                self.open.remove(entry)

    def handle_data(self, data: str) -> None:
        for entry in self.open:
            entry[2].append(data)

    def close(self) -> None:
        super().close()
        for ident, _, pieces in self.open:  # never closed: what there was
            self.texts[ident] = "".join(pieces)


def body_report(body: bytes, spec: dict) -> dict:
    report = {
        "body_size": len(body),
        "body_sha256": hashlib.sha256(body).hexdigest(),
        "body_start": body[:200].decode("utf-8", "backslashreplace"),
    }
    if len(body) <= 8192:
        report["body_text"] = body.decode("utf-8", "replace")
    if spec.get("ids"):
        parser = Texts(spec["ids"])
        try:
            parser.feed(body.decode("utf-8", "replace"))
            parser.close()
        except AssertionError:  # html.parser gives up on some broken markup: what it had
            pass
        report["texts"] = parser.texts
    if spec.get("find"):
        report["found"] = [s for s in spec["find"] if s.encode() in body]
    return report


def response_report(data: bytes, spec: dict) -> dict:
    """A raw answer, as it came: its head parsed, its body measured."""
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return {
            "status": None,
            "head": data[:300].decode("latin-1"),
            "body_size": 0,
            "problem": "no complete head (no CRLF CRLF)" if data else "no bytes at all",
        }
    lines = data[:end].decode("latin-1").split("\r\n")
    version, _, rest = lines[0].partition(" ")
    code, _, reason = rest.partition(" ")
    headers: dict[str, list[str]] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    return {
        "status_line": lines[0],
        "version": version,
        "reason": reason,
        "status": int(code) if code.isdigit() and len(code) == 3 else None,
        "headers": headers,
        "head": data[:end].decode("latin-1")[:1500],
        **body_report(data[end + 4 :], spec),
    }


def read_all(sock: socket.socket, limit: float = IDLE) -> tuple[bytes, bool, str | None]:
    """Everything until the server closes (at most MOST bytes, for ANSWER_TIME s);
    (bytes, closed, error)."""
    data = bytearray()
    try:
        if read_until(sock, data, None, time.monotonic() + max(limit, ANSWER_TIME), idle=limit, keep=MOST):
            return bytes(data), True, None
    except OSError as exc:
        return bytes(data), False, f"{type(exc).__name__}: {exc}"
    if overflowed(data, keep=MOST):
        return bytes(data), False, stopped(len(data))
    return bytes(data), False, f"no more bytes for {limit:g} s and the connection still open"


def content_length(head: bytes | bytearray) -> int | None:
    """The answer's one Content-Length, if it has exactly one that is digits."""
    values = [
        line.partition(b":")[2].strip()
        for line in head.split(b"\r\n")[1:]
        if line.partition(b":")[0].strip().lower() == b"content-length"
    ]
    return int(values[0]) if len(values) == 1 and values[0].isdigit() else None


def read_answer(sock: socket.socket, head_only: bool, again: bytes = b"") -> tuple[bytes, bool, str | None]:
    """The answer until the server closes; once the whole answer has come (as its
    Content-Length says), the server has CLOSE_WAIT seconds to close. (bytes, closed, error)

    ``again``: a second request, sent on the same connection as soon as the whole answer
    has come; a server that has closed (or resets the connection) has done right."""
    data, whole, sent_again = bytearray(), None, False
    deadline = time.monotonic() + ANSWER_TIME
    sock.settimeout(IDLE)
    try:
        while True:
            if overflowed(data, keep=MOST):
                return bytes(data), False, stopped(len(data))
            if time.monotonic() > deadline:
                return (
                    bytes(data),
                    False,
                    (f"the answer was still coming {ANSWER_TIME:g} s later, and the connection still open"),
                )
            if whole is None and (end := data.find(b"\r\n\r\n")) >= 0:
                length = 0 if head_only else content_length(data[:end])
                whole = None if length is None else end + 4 + length
            if whole is not None and len(data) >= whole:
                sock.settimeout(CLOSE_WAIT)
                if again and not sent_again:
                    sent_again = True
                    try:
                        sock.sendall(again)
                    except OSError:  # closed already: as it should be
                        return bytes(data), True, None
            chunk = sock.recv(65536)
            if not chunk:
                return bytes(data), True, None
            data += chunk
    except TimeoutError:
        if whole is not None and len(data) >= whole:
            return (
                bytes(data),
                False,
                (f"the whole answer came, and the connection was still open {CLOSE_WAIT:g} s later"),
            )
        return bytes(data), False, f"no more bytes for {IDLE:g} s and the connection still open"
    except OSError as exc:
        if sent_again and isinstance(exc, ConnectionResetError):
            return bytes(data), True, None  # the second request met a closed socket
        return bytes(data), False, f"{type(exc).__name__}: {exc}"


def rude(sock: socket.socket, spec: dict) -> dict:
    """A client that hangs up right after its request, or resets in the middle of the answer."""
    got = b""
    try:
        sock.settimeout(IDLE)
        while len(got) < spec.get("reset_after", 0):
            chunk = sock.recv(spec["reset_after"] - len(got))
            if not chunk:
                break
            got += chunk
    except OSError:
        pass
    if "reset_after" in spec:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    return {
        "status": None,
        "body_size": 0,
        "closed": False,
        "error": None,
        "rude": True,
        "received": len(got),
    }


def failed(exc: OSError, doing: str) -> dict:
    """The report of a request that the server's end broke off (refused, reset ...)."""
    return {"status": None, "body_size": 0, "closed": False, "error": f"{doing}: {type(exc).__name__}: {exc}"}


def connect(host: str, port: int) -> socket.socket:
    sock = socket.create_connection((host, port), timeout=IDLE)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def exchange(host: str, port: int, spec: dict) -> dict:
    """Send one raw request, piece by piece, and report the answer."""
    start = time.monotonic()
    try:
        sock = connect(host, port)
    except OSError as exc:
        return failed(exc, "connect")
    with sock:
        error = None
        try:
            pause = spec.get("pause", 0)
            for i, piece in enumerate(spec["pieces"]):
                if i:
                    time.sleep(pause[i - 1] if isinstance(pause, list) else pause)
                sock.sendall(piece.encode("latin-1"))
        except OSError as exc:  # the server may answer and close before it all went
            error = f"sending: {type(exc).__name__}: {exc}"
        if spec.get("hangup") or "reset_after" in spec:
            return rude(sock, spec)
        head_only = spec.get("head_only", "".join(spec["pieces"]).startswith("HEAD "))
        again = spec.get("again", "").encode("latin-1")
        data, closed, read_error = read_answer(sock, head_only, again)
    report = response_report(data, spec)
    if again and report.get("status") is not None:
        length = 0 if head_only else content_length(data[: data.find(b"\r\n\r\n")])
        if length is not None:
            extra = data[data.find(b"\r\n\r\n") + 4 + length :]
            report["after"] = len(extra)
            report["after_start"] = extra[:80].decode("latin-1")
    return {
        **report,
        "closed": closed,
        "error": read_error or error,
        "seconds": round(time.monotonic() - start, 3),
    }


def raw(args: argparse.Namespace) -> dict:
    return {"answers": [exchange(args.host, args.port, spec) for spec in json.loads(args.spec)]}


def slow(args: argparse.Namespace) -> dict:
    """Client A sends part of its head and stalls, and so do ``crowd`` more clients (so that
    a pool of a few threads is full); client B asks while they are stalled; then A sends the
    rest one byte at a time. B must be answered within ``bound`` seconds."""
    spec = json.loads(args.spec)
    first, rest = spec["stalled"][: spec["split"]], spec["stalled"][spec["split"] :]
    crowd: list[socket.socket] = []
    try:
        stalled = connect(args.host, args.port)
        stalled.sendall(first.encode("latin-1"))
        for _ in range(spec.get("crowd", 0)):
            crowd.append(connect(args.host, args.port))
            crowd[-1].sendall(first.encode("latin-1"))
    except OSError as exc:
        for sock in crowd:
            sock.close()
        return {"other": failed(exc, "the first clients"), "stalled": failed(exc, "connect")}
    with stalled:
        start = time.monotonic()
        try:
            with connect(args.host, args.port) as other:
                other.sendall(spec["other"].encode("latin-1"))
                data, closed, error = read_all(other, args.bound)
            other_report = {
                **response_report(data, spec),
                "closed": closed,
                "error": error,
                "seconds": round(time.monotonic() - start, 3),
            }
        except OSError as exc:
            other_report = failed(exc, "connect")
        for sock in crowd:  # they hang up mid-head
            sock.close()
        error = None
        try:
            for byte in rest:
                time.sleep(0.01)  # a slow client: each byte its own segment
                stalled.sendall(byte.encode("latin-1"))
        except OSError as exc:
            error = f"sending the rest: {type(exc).__name__}: {exc}"
        data, closed, read_error = read_all(stalled)
    return {
        "other": other_report,
        "stalled": {**response_report(data, spec), "closed": closed, "error": read_error or error},
    }


def huge(args: argparse.Namespace) -> dict:
    """A head that goes on and on (header lines, never the blank line): send up to ``size``
    bytes, stopping as soon as the server answers, then read its answer."""
    line = "a" * 1024 if args.one_line else "X-Filler: " + "a" * 1014 + "\r\n"
    try:
        sock = connect(args.host, args.port)
    except OSError as exc:
        return {**failed(exc, "connect"), "sent": 0}
    sent, error, start = 0, None, time.monotonic()
    with sock:
        sock.setblocking(False)
        pending = b"GET / HTTP/1.1\r\nHost: server\r\n" + (b"X-Long: " if args.one_line else b"")
        while sent < args.size:
            readable, writable, _ = select.select([sock], [sock], [], IDLE)
            if readable or not writable:
                break  # an answer (or a server that stopped reading: let it answer now)
            if not pending:
                pending = line.encode()
            try:
                n = sock.send(pending)
            except OSError as exc:
                error = f"sending: {type(exc).__name__}: {exc}"
                break
            sent, pending = sent + n, pending[n:]
        sock.setblocking(True)
        data, closed, read_error = read_all(sock)
    return {
        **response_report(data, {}),
        "sent": sent,
        "closed": closed,
        "error": read_error or error,
        "seconds": round(time.monotonic() - start, 3),
    }


# --- real clients ---------------------------------------------------------------------------


def pyclient(args: argparse.Namespace) -> dict:
    """Each request made by Python's http.client, as any Python program would."""
    answers = []
    for spec in json.loads(args.spec):
        conn = http.client.HTTPConnection(args.host, args.port, timeout=IDLE)
        try:
            body = spec.get("body")
            conn.request(
                spec["method"],
                spec["path"],
                body=body.encode() if body else None,
                headers=spec.get("headers", {}),
            )
            reply = conn.getresponse()
            data = read_body(reply)
            answers.append(
                {
                    "status": reply.status,
                    "reason": reply.reason,
                    "headers": {k.lower(): [v] for k, v in reply.getheaders()},
                    "error": None,
                    **body_report(data, spec),
                }
            )
        except (OSError, ValueError, http.client.HTTPException) as exc:
            answers.append({"status": None, "error": f"{type(exc).__name__}: {exc}"})
        finally:
            conn.close()
    return {"answers": answers}


def read_body(reply: http.client.HTTPResponse) -> bytes:
    """The body, as ``reply.read()`` has it, but at most MOST bytes and ANSWER_TIME s."""
    data, deadline = bytearray(), time.monotonic() + ANSWER_TIME
    while not overflowed(data, keep=MOST):
        if time.monotonic() > deadline:
            raise TimeoutError(f"the body was still coming {ANSWER_TIME:g} s later")
        piece = reply.read(65536)
        if not piece:
            break
        data += piece
    else:
        raise ValueError(stopped(len(data)))
    if reply.length:  # the server closed before the Content-Length it announced
        raise http.client.IncompleteRead(bytes(data), reply.length)
    return bytes(data)


def curl(args: argparse.Namespace) -> dict:
    """Each request made by curl: its exit code, what it reports, and the body it saved."""
    answers = []
    for spec in json.loads(args.spec):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "body")
            run = subprocess.run(
                [
                    "curl",
                    "--silent",
                    "--show-error",
                    "--noproxy",
                    "*",
                    "--max-time",
                    str(IDLE * 2),
                    "--output",
                    out,
                    "--write-out",
                    "%{json}\n%{header_json}",
                    *spec["args"],
                    spec["url"],
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            body = b""
            if os.path.exists(out):  # curl's file is bounded by /tmp's size: ours by MOST
                with open(out, "rb") as saved:
                    body = saved.read(MOST + 1)
        # curl's own account: its summary, then the headers it received, as JSON
        seen, _, headers = run.stdout.partition("\n")
        seen = json.loads(seen) if seen.startswith("{") else {}
        headers = json.loads(headers) if headers.startswith("{") else {}
        stderr = run.stderr.strip()[-500:]
        if overflowed(body, keep=MOST):
            stderr += f" ({stopped(len(body))})"
        answers.append(
            {
                "exit": run.returncode,
                "stderr": stderr,
                "status": seen.get("http_code") or None,
                "headers": {k.lower(): v for k, v in headers.items()},
                "size_download": seen.get("size_download"),
                **body_report(body, spec),
            }
        )
    return {"answers": answers}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="http_probe.py")
    sub = parser.add_subparsers(dest="cmd", required=True)
    for name in ("raw", "slow", "huge", "pyclient"):
        p = sub.add_parser(name)
        p.add_argument("--host", required=True)
        p.add_argument("--port", type=int, required=True)
        if name != "huge":
            p.add_argument("--spec", required=True)
    sub.choices["slow"].add_argument("--bound", type=float, required=True)
    sub.choices["huge"].add_argument("--size", type=int, required=True)
    sub.choices["huge"].add_argument(
        "--one-line", action="store_true", help="one header line that never ends, not many lines"
    )
    sub.add_parser("curl").add_argument("--spec", required=True)
    args = parser.parse_args(argv)
    run = {"raw": raw, "slow": slow, "huge": huge, "pyclient": pyclient, "curl": curl}[args.cmd]
    print(json.dumps(run(args)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
