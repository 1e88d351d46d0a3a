"""Lab 9 datagram server (selectors solution): waits in select(), a 64 KiB buffer.

Design: the socket waits in a ``selectors`` loop; each datagram is read with a buffer
far larger than the protocol's largest (8192), so nothing is ever cut. A reply goes to
the address ``recvfrom`` gave; a client without an address, or one whose file is gone,
is skipped.

Usage: python3 dgram_server.py [PATH]
"""

from __future__ import annotations

import selectors
import socket
import sys

import socketfile

PATH = "/scratch/dgram.sock"
BUFFER = 65536


def serve(sock: socket.socket) -> None:
    sel = selectors.DefaultSelector()
    sel.register(sock, selectors.EVENT_READ)
    while True:
        sel.select()
        data, addr = sock.recvfrom(BUFFER)
        if not addr:
            continue  # an unbound client: there is nowhere to answer
        try:
            sock.sendto(b"%d " % len(data) + data, addr)
        except OSError as exc:
            print(f"no reply to {addr!r}: {exc}", flush=True)


def main() -> None:
    path = sys.argv[1] if len(sys.argv) > 1 else PATH
    socketfile.on_sigterm_exit()
    socketfile.check_path(path, socket.SOCK_DGRAM)
    sock, inode = socketfile.bind_0660(path, socket.SOCK_DGRAM)
    try:
        print(f"datagram server on {path}", flush=True)
        serve(sock)
    finally:
        socketfile.remove_if_mine(path, inode)
        sock.close()


if __name__ == "__main__":
    main()
