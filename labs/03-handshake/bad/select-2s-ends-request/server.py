"""Known wrong: select() with a 2 s timeout; silence taken for the end of the request."""

import hashlib
import selectors
import socket
import sys


def serve(conn):
    sel = selectors.DefaultSelector()
    sel.register(conn, selectors.EVENT_READ)
    req = bytearray()
    while sel.select(timeout=2.0):   # nothing for 2 s: the request is over
        chunk = conn.recv(65536)
        if not chunk:
            break
        req += chunk
    sel.close()
    conn.sendall(f"{len(req)} {hashlib.sha256(req).hexdigest()}\n".encode())

port = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
ls = socket.create_server(("", port), reuse_port=False)
while True:
    c, _ = ls.accept()
    try:
        serve(c)
    except ConnectionError:
        pass
    finally:
        c.close()
