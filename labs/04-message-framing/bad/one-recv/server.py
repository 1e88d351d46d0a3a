"""Known wrong: takes one recv() for one message, as if the stream kept message boundaries."""

import socket
import sys

from framing import HEADER, MAX_SIZE, send_frame


def serve(conn: socket.socket) -> None:
    while data := conn.recv(65536):
        kind, length = HEADER.unpack(data[:HEADER.size])
        if kind != b"M":
            send_frame(conn, b"E", b"bad kind")
            return
        if length > MAX_SIZE:
            send_frame(conn, b"E", b"too long")
            return
        send_frame(conn, b"M", data[HEADER.size:HEADER.size + length][::-1])


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
