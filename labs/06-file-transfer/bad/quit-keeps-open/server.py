"""Lab 6 server, a process per client: os.fork(), makefile() and sendfile().

Design: the parent only accepts; each client gets a child process (os.fork) that
reads the connection through a buffered ``makefile("rb")`` (``readline`` for commands,
``read(n)`` for uploads, so bytes after a command line are never lost) and sends files
with ``socket.sendfile()`` (the kernel copies from the file to the socket, nothing is
held in Python). Uploads are written straight to the target name and removed again if
the client vanishes half-way. The children are reaped by ignoring SIGCHLD.

Usage: python3 server.py PORT ROOT
"""

import os
import signal
import socket
import stat
import sys

MAX_LINE = 1024
PIECE = 16 * 1024  # upload pieces: smaller than the usual 64 KiB, just as legal


def refused(name: str) -> bool:
    return name in ("", ".", "..") or "/" in name or "\0" in name


def listing(root: str) -> bytes:
    names = []
    for name in os.listdir(root):
        if name.startswith("."):
            continue
        try:
            if stat.S_ISREG(os.stat(os.path.join(root, name)).st_mode):
                names.append(name)
        except OSError:
            continue  # a dangling link, or removed meanwhile
    names.sort()
    return "".join(n + "\n" for n in names).encode("utf-8", "surrogateescape")


def session(conn: socket.socket, root: str) -> None:
    rfile = conn.makefile("rb")

    def say(text: str) -> None:
        conn.sendall(text.encode("utf-8", "surrogateescape") + b"\n")

    while True:
        raw = rfile.readline(MAX_LINE + 2)
        if not raw.endswith(b"\n"):
            return  # the client left (or sent a line longer than the protocol allows)
        line = raw[:-1].removesuffix(b"\r").decode("utf-8", "surrogateescape")
        verb, _, rest = line.partition(" ")
        if verb == "QUIT":
            say("221 bye")
            continue  # the client will close
        if verb == "LIST":
            body = listing(root)
            conn.sendall(b"200 OK %d\n" % len(body) + body)
        elif verb == "GET":
            get(conn, root, rest, say)
        elif verb == "PUT":
            put(rfile, root, rest, say)
        else:
            say("500 unknown command")


def get(conn: socket.socket, root: str, name: str, say) -> None:
    if refused(name):
        say("553 refused")
        return
    try:
        f = open(os.path.join(root, name), "rb")  # noqa: SIM115 (closed below)
    except OSError:
        say("550 not found")
        return
    with f:
        size = os.fstat(f.fileno()).st_size
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            say("550 not found")
            return
        say(f"200 OK {size}")
        if size:
            conn.sendfile(f, 0, size)


def put(rfile, root: str, rest: str, say) -> None:
    name, _, size = rest.partition(" ")
    if not size.isascii() or not size.isdigit():
        say("501 bad arguments")
        return
    if refused(name):
        say("553 refused")
        return
    path = os.path.join(root, name)
    left = int(size)
    say("150 ready")
    complete = False
    try:
        with open(path, "wb") as out:
            while left:
                piece = rfile.read1(min(PIECE, left))
                if not piece:
                    return
                out.write(piece)
                left -= len(piece)
        complete = True
    finally:
        if not complete:
            os.unlink(path)
    say(f"226 stored {size}")


def main() -> None:
    port, root = int(sys.argv[1]), sys.argv[2]
    os.makedirs(root, exist_ok=True)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped automatically
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("0.0.0.0", port))
    listener.listen(16)
    print(f"serving {root} on port {port}", flush=True)
    while True:
        conn, _ = listener.accept()
        if os.fork() == 0:
            listener.close()
            code = 0
            try:
                session(conn, root)
            except OSError as exc:
                print(f"client gone: {exc!r}", flush=True)
                code = 1
            finally:
                conn.close()
                os._exit(code)
        conn.close()


if __name__ == "__main__":
    main()
