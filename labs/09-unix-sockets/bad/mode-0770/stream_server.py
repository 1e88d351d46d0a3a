"""Lab 9 stream server (selectors solution): non-blocking, every client at once.

Design: one ``selectors`` loop serves the listener and every connection; each
connection has an input buffer and an output buffer, and complete lines are answered
as they come. Serving clients concurrently is a superset of "one after another".

Usage: python3 stream_server.py [PATH]
"""

from __future__ import annotations

import selectors
import socket
import sys

import socketfile

PATH = "/scratch/stream.sock"


class Conn:
    def __init__(self, sock: socket.socket) -> None:
        self.sock, self.inbox, self.outbox = sock, b"", b""
        self.closing = False


def answer_lines(conn: Conn) -> None:
    *lines, conn.inbox = conn.inbox.split(b"\n")
    for line in lines:
        conn.outbox += str(len(line)).encode() + b" " + line + b"\n"


def serve(listener: socket.socket) -> None:
    sel = selectors.DefaultSelector()
    listener.setblocking(False)
    sel.register(listener, selectors.EVENT_READ, None)
    while True:
        for key, events in sel.select():
            if key.data is None:
                try:
                    sock, _ = listener.accept()
                except BlockingIOError:
                    continue
                sock.setblocking(False)
                sel.register(sock, selectors.EVENT_READ, Conn(sock))
                continue
            conn: Conn = key.data
            try:
                if events & selectors.EVENT_READ:
                    data = conn.sock.recv(4096)
                    if data:
                        conn.inbox += data
                        answer_lines(conn)
                    else:
                        conn.closing = True  # an unfinished last line is dropped
                if conn.outbox:
                    sent = conn.sock.send(conn.outbox)
                    conn.outbox = conn.outbox[sent:]
            except BlockingIOError:
                pass
            except OSError:
                conn.closing, conn.outbox = True, b""
            if conn.closing and not conn.outbox:
                sel.unregister(conn.sock)
                conn.sock.close()
            else:
                want = selectors.EVENT_READ if not conn.closing else 0
                if conn.outbox:
                    want |= selectors.EVENT_WRITE
                sel.modify(conn.sock, want, conn)


def main() -> None:
    path = sys.argv[1] if len(sys.argv) > 1 else PATH
    socketfile.on_sigterm_exit()
    socketfile.check_path(path, socket.SOCK_STREAM)
    listener, inode = socketfile.bind_0660(path, socket.SOCK_STREAM)
    try:
        listener.listen(16)
        print(f"stream server on {path}", flush=True)
        serve(listener)
    finally:
        socketfile.remove_if_mine(path, inode)
        listener.close()


if __name__ == "__main__":
    main()
