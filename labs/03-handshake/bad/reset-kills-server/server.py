"""Lab 3: an iterative server that reads each request to EOF, answers and closes."""

import hashlib
import socket
import sys


def answer(request: bytes) -> bytes:
    """The reply: the request's size and SHA-256, which only a whole request gives."""
    return f"{len(request)} {hashlib.sha256(request).hexdigest()}\n".encode()


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("", port))
    listener.listen()
    print(f"listening on port {port}", flush=True)
    buffer = bytearray(4096)
    while True:
        conn, peer = listener.accept()
        with conn:
            request = bytearray()
            while n := conn.recv_into(buffer):
                request += buffer[:n]
            conn.sendall(answer(bytes(request)))
        print(f"client {peer}: {len(request)} bytes answered", flush=True)


if __name__ == "__main__":
    main()
