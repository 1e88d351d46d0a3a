"""Known wrong: the accept loop catches ConnectionResetError only, not BrokenPipeError.

Usage: python3 server.py [PORT]
"""

import hashlib
import socket
import sys


def answer(request: bytes) -> bytes:
    """The reply: the request's size and SHA-256, which only a whole request gives."""
    return f"{len(request)} {hashlib.sha256(request).hexdigest()}\n".encode()


def serve(conn: socket.socket) -> int:
    """Read until EOF, reply; return the request's size."""
    request = bytearray()
    while chunk := conn.recv(65536):  # b"": the client's FIN, its request is complete
        request += chunk
    conn.sendall(answer(request))
    return len(request)


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("", port))
        listener.listen()
        print(f"listening on port {port}", flush=True)
        while True:
            conn, (host, peer_port) = listener.accept()
            with conn:  # leaving the block closes: our FIN ends the reply
                try:
                    size = serve(conn)
                    print(f"{host}:{peer_port}: {size}-byte request answered", flush=True)
                except ConnectionResetError as exc:  # one client's trouble must not stop the server
                    print(f"{host}:{peer_port}: {exc}", flush=True)


if __name__ == "__main__":
    main()
