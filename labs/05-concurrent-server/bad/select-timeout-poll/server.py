"""Lab 5 alternative solution: a single-threaded selectors server with per-client buffers.

Design: non-blocking sockets and ``selectors.DefaultSelector``. Each client has a
``bytearray`` of bytes still to echo; reads go through ``recv_into`` a shared buffer,
writes use ``send`` on a ``memoryview`` and drop what was taken. The client is watched
for EVENT_WRITE only while bytes wait, and no longer for EVENT_READ once 256 KiB wait
(a client that never reads cannot make the server hoard its bytes). On EOF the client
is closed once its pending bytes are out; on a reset at once.
"""

import selectors
import socket
import sys

HIGH_WATER = 256 * 1024
READ_SIZE = 8192


class Client:
    def __init__(self, conn: socket.socket) -> None:
        self.conn = conn
        self.pending = bytearray()
        self.eof = False


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    sel = selectors.DefaultSelector()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("", port))
    listener.listen(128)
    listener.setblocking(False)
    sel.register(listener, selectors.EVENT_READ, None)
    buffer = bytearray(READ_SIZE)
    print(f"listening on port {port}", flush=True)

    def close(client: Client) -> None:
        sel.unregister(client.conn)
        client.conn.close()

    def interest(client: Client) -> None:
        events = 0
        if not client.eof and len(client.pending) < HIGH_WATER:
            events |= selectors.EVENT_READ
        if client.pending:
            events |= selectors.EVENT_WRITE
        if events == 0:  # EOF and nothing left to send: the conversation is over
            close(client)
        else:
            sel.modify(client.conn, events, client)

    def step(client: Client, events: int) -> None:
        if events & selectors.EVENT_READ:
            n = client.conn.recv_into(buffer)
            if n == 0:
                client.eof = True
            else:
                client.pending += memoryview(buffer)[:n]
        if events & selectors.EVENT_WRITE and client.pending:
            try:
                sent = client.conn.send(memoryview(client.pending))
            except BlockingIOError:
                sent = 0
            del client.pending[:sent]
        interest(client)

    while True:
        for key, events in sel.select(timeout=0.01):  # wake up now and then
            if key.data is None:
                try:
                    conn, _ = listener.accept()
                except BlockingIOError:
                    continue
                conn.setblocking(False)
                sel.register(conn, selectors.EVENT_READ, Client(conn))
                continue
            client = key.data
            try:
                step(client, events)
            except BlockingIOError:
                pass
            except ConnectionError:
                close(client)


if __name__ == "__main__":
    main()
