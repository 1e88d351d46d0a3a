"""Lab 9 reference: the line-length server on a Unix stream socket.

Usage: python3 stream_server.py [PATH]   (default /scratch/stream.sock)
"""

from __future__ import annotations

import socket
import sys

import socketfile

PATH = "/scratch/stream.sock"


def answer(line: bytes) -> bytes:
    return f"{len(line)} ".encode() + line + b"\n"


def serve(conn: socket.socket) -> None:
    """Answer the lines the client sent, then hang up: one read is the client's request."""
    data = conn.recv(65536)
    *lines, _rest = data.split(b"\n")
    conn.sendall(b"".join(answer(line) for line in lines))


def main() -> None:
    path = sys.argv[1] if len(sys.argv) > 1 else PATH
    socketfile.exit_on_sigterm()
    with socketfile.claimed(path, socket.SOCK_STREAM) as listener:
        listener.listen()
        print(f"serving on {path}", flush=True)
        while True:
            conn, _ = listener.accept()  # a Unix stream client has no address: usually ""
            with conn:
                try:
                    serve(conn)
                except ConnectionError as exc:  # one client going wrong must not stop the server
                    print(f"client dropped: {exc}", flush=True)


if __name__ == "__main__":
    main()
