"""Known wrong: believes any length a header announces and allocates room for it first."""

import socket
import sys

from framing import recv_header, send_frame


def serve(conn: socket.socket) -> None:
    while header := recv_header(conn):
        kind, length = header
        if kind != b"M":
            send_frame(conn, b"E", b"bad kind")
            return
        payload = bytearray(length)  # room for the whole message, as the header says
        view, got = memoryview(payload), 0
        while got < length:
            n = conn.recv_into(view[got:])
            if not n:
                return
            got += n
        send_frame(conn, b"M", bytes(payload[::-1]))


port = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("", port))
    listener.listen()
    print(f"listening on port {port}", flush=True)
    while True:
        conn, _ = listener.accept()
        with conn:
            try:
                serve(conn)
            except ConnectionError as exc:
                print(f"dropped: {exc}", flush=True)
