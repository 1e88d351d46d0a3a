"""Lab 5: a single-threaded selectors server with per-client buffers."""

import contextlib
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
            with contextlib.suppress(BlockingIOError):
                client.conn.send(memoryview(client.pending))
            client.pending.clear()
        interest(client)

    while True:
        for key, events in sel.select():
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
