"""Lab 9: the line-length server on a Unix stream socket.

Usage: python3 stream_server.py [PATH]   (default /scratch/stream.sock)
Read the lab's README.md first. Replace each TODO.
"""

from __future__ import annotations

import socket
import sys

import socketfile

PATH = "/scratch/stream.sock"


def answer(line: bytes) -> bytes:
    """The answer to one line (without its newline): its length in bytes, a space, the line."""
    return f"{len(line)} ".encode() + line + b"\n"


def serve(conn: socket.socket) -> None:
    """Answer each complete line the client sends, until it closes its side."""
    # TODO: recv() until it returns b"". A recv() returns whatever bytes have arrived:
    #       part of a line, or several lines. Keep the bytes in a buffer, and answer each
    #       complete line (ending in b"\n") with sendall(answer(line)).


def main() -> None:
    path = sys.argv[1] if len(sys.argv) > 1 else PATH
    socketfile.exit_on_sigterm()
    with socketfile.claimed(path, socket.SOCK_STREAM) as listener:
        # TODO: listen(); then forever: accept() a client, serve() it, close the connection.
        print(f"stream server not written yet ({listener.getsockname()})", flush=True)


if __name__ == "__main__":
    main()
