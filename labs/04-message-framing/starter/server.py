"""Lab 4: a framed reverse server. Usage: python3 server.py [PORT]

Read the lab's README.md first. The accepting loop is lab 1's; serve() is yours to write.
"""

import socket
import sys

from framing import MAX_SIZE, recv_exactly, recv_header, send_frame  # noqa: F401 (yours to use)


def serve(conn: socket.socket) -> str:
    """Answer each message with its payload reversed; return why the conversation ended."""
    # TODO: loop:
    #   - recv_header(); None means the client closed: return.
    #   - a kind other than b"M": send_frame() the error b"E" b"bad kind", and return.
    #   - a length over MAX_SIZE: send_frame() b"E" b"too long", and return -- decide from
    #     the header alone: do not read or allocate what it announces.
    #   - recv_exactly() the payload; None means the client left mid-message: return.
    #   - send_frame() b"M" with the payload reversed (payload[::-1]).
    print(f"serve() not written yet (MAX_SIZE {MAX_SIZE})", flush=True)
    return "not served"


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
                except ConnectionError as exc:  # one client's trouble must not stop the server
                    why = f"dropped: {exc}"
            print(f"client {host}:{peer_port}: {why}", flush=True)


if __name__ == "__main__":
    main()

