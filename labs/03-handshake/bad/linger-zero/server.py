"""Lab 3: an iterative ``socketserver.TCPServer``."""

import hashlib
import socket
import socketserver
import struct
import sys


def answer(request: bytes) -> bytes:
    """The reply: the request's size and SHA-256, which only a whole request gives."""
    return f"{len(request)} {hashlib.sha256(request).hexdigest()}\n".encode()


class Handler(socketserver.StreamRequestHandler):
    def setup(self) -> None:
        # no TIME_WAIT left behind: close at once
        self.request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        super().setup()

    def handle(self) -> None:
        try:
            request = self.rfile.read()
            self.wfile.write(answer(request))
        except ConnectionError as exc:
            print(f"client {self.client_address}: dropped ({exc!r})", flush=True)
            return
        print(f"client {self.client_address}: {len(request)} bytes answered", flush=True)


class Server(socketserver.TCPServer):
    allow_reuse_address = True

    def shutdown_request(self, request: socket.socket) -> None:
        self.close_request(request)  # no shutdown() first: close at once


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    with Server(("", port), Handler) as server:
        print(f"listening on port {port}", flush=True)
        server.serve_forever()


if __name__ == "__main__":
    main()
