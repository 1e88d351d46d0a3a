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
    """Answer each complete line; a stream has no boundaries, so lines are cut out of a buffer."""
    pending = b""
    while data := conn.recv(4096):
        pending += data
        *lines, pending = pending.split(b"\n")
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
                conn.settimeout(2.0)  # a client that hangs must not hold the server
                try:
                    serve(conn)
                except (ConnectionError, TimeoutError) as exc:  # one client must not stop the server
                    print(f"client dropped: {exc}", flush=True)


if __name__ == "__main__":
    main()
