"""Lab 6 reference server: a small FTP-like protocol over TCP.

Usage: python3 server.py PORT ROOT

Serves the files in the directory ROOT (see the README's "Protocol"): LIST, GET name,
PUT name size, QUIT. A thread per client; files move in 64 KiB pieces, never whole.
"""

import contextlib
import os
import socket
import sys
import threading

CHUNK = 64 * 1024
MAX_LINE = 1024


class Closed(Exception):
    """The client went away."""


class Session:
    def __init__(self, conn: socket.socket, root: str) -> None:
        self.conn, self.root, self.buf = conn, root, b""

    def read_line(self) -> str:
        while b"\n" not in self.buf:
            if len(self.buf) > MAX_LINE:
                raise Closed
            chunk = self.conn.recv(4096)
            if not chunk:
                raise Closed
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return line.decode("utf-8", "replace").strip()

    def read_some(self, limit: int) -> bytes:
        if self.buf:
            data, self.buf = self.buf[:limit], self.buf[limit:]
            return data
        data = self.conn.recv(min(limit, CHUNK))
        if not data:
            raise Closed
        return data

    def reply(self, text: str) -> None:
        self.conn.sendall(text.encode() + b"\n")

    def path(self, name: str) -> str | None:
        """The file NAME in the root, or None if NAME could lead anywhere else."""
        if not name or name in (".", "..") or "/" in name or "\0" in name:
            return None
        return os.path.join(self.root, name)

    def serve(self) -> None:
        while True:
            command, _, arg = self.read_line().partition(" ")
            if command == "QUIT":
                self.reply("221 bye")
                return
            handler = {"LIST": self.list, "GET": self.get, "PUT": self.put}.get(command)
            if handler is None:
                self.reply("500 unknown command")
            else:
                handler(arg)

    def list(self, _arg: str) -> None:
        names = sorted(n for n in os.listdir(self.root)
                       if not n.startswith(".") and os.path.isfile(os.path.join(self.root, n)))
        body = "".join(f"{n}\n" for n in names).encode()
        self.conn.sendall(f"200 OK {len(body)}\n".encode() + body)

    def get(self, name: str) -> None:
        path = self.path(name)
        if path is None:
            return self.reply("553 refused")
        try:
            with open(path, "rb") as f:
                self.reply(f"200 OK {os.fstat(f.fileno()).st_size}")
                while chunk := f.read(CHUNK):
                    self.conn.sendall(chunk)
        except OSError:  # missing, a folder, unreadable, a name too long: none to send
            self.reply("550 not found")

    def put(self, arg: str) -> None:
        name, _, size = arg.rpartition(" ")
        if not (size.isascii() and size.isdigit()):
            return self.reply("501 bad arguments")
        path = self.path(name)
        if path is None:
            return self.reply("553 refused")
        left = int(size)
        part = os.path.join(self.root, f".{name}.part")
        self.reply("150 ready")
        try:
            with open(part, "wb") as f:
                while left:
                    chunk = self.read_some(left)
                    f.write(chunk)
                    left -= len(chunk)
            os.replace(part, path)
        finally:
            if left:
                os.unlink(part)  # the client left mid-file: keep no half file
        self.reply(f"226 stored {size}")


def handle(conn: socket.socket, root: str) -> None:
    # One client's trouble (gone, reset, garbage) ends its session, never the server.
    with conn, contextlib.suppress(Closed, OSError):
        Session(conn, root).serve()


def main() -> None:
    port, root = int(sys.argv[1]), sys.argv[2]
    os.makedirs(root, exist_ok=True)
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("", port))
    listener.listen()
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=handle, args=(conn, root), daemon=True).start()


if __name__ == "__main__":
    main()
