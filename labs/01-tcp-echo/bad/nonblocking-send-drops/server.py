"""Known wrong: a selectors server that ignores partial non-blocking sends."""

import contextlib
import selectors
import socket
import sys

sel = selectors.DefaultSelector()

def accept(lsock):
    conn, _ = lsock.accept()
    conn.setblocking(False)
    sel.register(conn, selectors.EVENT_READ, echo)

def echo(conn):
    try:
        data = conn.recv(65536)
    except (BlockingIOError, InterruptedError):
        return
    except ConnectionError:
        data = b""
    if data:
        with contextlib.suppress(BlockingIOError, ConnectionError):
            conn.send(data)  # whatever it returns: the rest is lost
    else:
        sel.unregister(conn)
        conn.close()

lsock = socket.socket()
lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
lsock.bind(("", int(sys.argv[1])))
lsock.listen()
lsock.setblocking(False)
sel.register(lsock, selectors.EVENT_READ, accept)
while True:
    for key, _ in sel.select():
        key.data(key.fileobj)
