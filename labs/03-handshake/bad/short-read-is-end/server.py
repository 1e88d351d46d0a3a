"""Lab 3: an iterative ``socketserver.TCPServer``."""

import hashlib
import socketserver
import sys


def answer(request: bytes) -> bytes:
    """The reply: the request's size and SHA-256, which only a whole request gives."""
    return f"{len(request)} {hashlib.sha256(request).hexdigest()}\n".encode()


class Handler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        try:
            chunks = []
            while True:
                chunk = self.request.recv(4096)
                chunks.append(chunk)
                if len(chunk) < 4096:  # a short read: nothing more is coming
                    break
            request = b"".join(chunks)
            self.wfile.write(answer(request))
        except ConnectionError as exc:
            print(f"client {self.client_address}: dropped ({exc!r})", flush=True)
            return
        print(f"client {self.client_address}: {len(request)} bytes answered", flush=True)


class Server(socketserver.TCPServer):
    allow_reuse_address = True


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    with Server(("", port), Handler) as server:
        print(f"listening on port {port}", flush=True)
        server.serve_forever()


if __name__ == "__main__":
    main()
