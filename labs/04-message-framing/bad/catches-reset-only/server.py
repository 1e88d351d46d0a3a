"""Lab 4 reference: a framed reverse server. Usage: python3 server.py [PORT]"""

import socket
import sys

from framing import MAX_SIZE, recv_exactly, recv_header, send_frame


def serve(conn: socket.socket) -> str:
    """Answer each message with its payload reversed; return why the conversation ended."""
    while True:
        header = recv_header(conn)
        if header is None:
            return "closed"
        kind, length = header
        if kind != b"M":
            send_frame(conn, b"E", b"bad kind")
            return f"bad kind {kind!r}"
        if length > MAX_SIZE:  # decided from the header alone: nothing is read or allocated
            send_frame(conn, b"E", b"too long")
            return f"too long ({length} bytes)"
        payload = recv_exactly(conn, length)
        if payload is None:
            return "closed in the middle of a message"
        send_frame(conn, b"M", payload[::-1])


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("", port))
        listener.listen()
        print(f"listening on port {port}", flush=True)
        while True:
            conn, (host, peer_port) = listener.accept()
            with conn:
                try:
                    why = serve(conn)
                except ConnectionResetError as exc:  # a client that resets must not stop the server
                    why = f"dropped: {exc}"
            print(f"client {host}:{peer_port}: {why}", flush=True)


if __name__ == "__main__":
    main()
