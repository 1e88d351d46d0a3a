"""Lab 6 server: a small FTP-like protocol over TCP.

Usage: python3 server.py PORT ROOT

Serves the files in the directory ROOT. The protocol is in the README: LIST, GET name,
PUT name size, QUIT. QUIT and unknown commands work already; the rest is yours.
"""

import contextlib
import os
import socket
import sys
import threading

CHUNK = 64 * 1024  # move files in pieces of this size, never whole
MAX_LINE = 1024


class Closed(Exception):
    """The client went away."""


class Session:
    def __init__(self, conn: socket.socket, root: str) -> None:
        self.conn, self.root, self.buf = conn, root, b""

    def read_line(self) -> str:
        """One command line, without its newline: the bytes may come in any pieces."""
        while b"\n" not in self.buf:
            if len(self.buf) > MAX_LINE:
                raise Closed
            chunk = self.conn.recv(4096)
            if not chunk:
                raise Closed
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return line.rstrip(b"\r").decode("utf-8", "replace")

    def reply(self, text: str) -> None:
        self.conn.sendall(text.encode() + b"\n")

    def path(self, name: str) -> str | None:
        """The file NAME in the root, or None if NAME could lead anywhere else."""
        # TODO: refuse names that could leave the root: '..', '/etc/passwd', 'a/../../b' ...
        return os.path.join(self.root, name)

    def serve(self) -> None:
        while True:
            command, _, arg = self.read_line().partition(" ")
            if command == "QUIT":
                self.reply("221 bye")
                return
            # TODO: LIST, GET name and PUT name size (README: "Protocol"), e.g. as
            # {"LIST": self.list, "GET": self.get, "PUT": self.put}
            handler = {}.get(command)
            if handler is None:
                self.reply("500 unknown command")
            else:
                handler(arg)


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
