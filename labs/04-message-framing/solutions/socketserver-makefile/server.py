"""Lab 4 alternative solution: a ``socketserver`` server reading through ``makefile``.

Design: an iterative ``socketserver.TCPServer`` (one client after another). The handler
reads frames through the buffered binary file ``rfile`` — ``read(n)`` returns n bytes,
or fewer only when the stream ends — and answers with framing.py's ``send_frame`` on the
socket itself. Headers are judged before any payload is read.
"""

import socketserver
import sys

from framing import MAX_SIZE, send_frame

HEADER_SIZE = 5


class Reverse(socketserver.StreamRequestHandler):
    def converse(self) -> str:
        answered = 0
        while True:
            header = self.rfile.read(HEADER_SIZE)
            if len(header) < HEADER_SIZE:
                return f"closed after {answered} frames" if not header else "closed mid-header"
            kind, length = header[:1], int.from_bytes(header[1:], "big")
            if kind != b"M":
                send_frame(self.request, b"E", b"bad kind")
                return f"bad kind {kind!r}"
            if length > MAX_SIZE:
                send_frame(self.request, b"E", b"too long")
                return f"too long ({length})"
            payload = self.rfile.read(length)
            if len(payload) < length:
                return "closed mid-payload"
            send_frame(self.request, b"M", payload[::-1])
            answered += 1

    def handle(self) -> None:
        try:
            why = self.converse()
        except ConnectionError as exc:
            why = f"dropped ({exc!r})"
        print(f"client {self.client_address}: {why}", flush=True)


class Server(socketserver.TCPServer):
    allow_reuse_address = True


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    with Server(("", port), Reverse) as server:
        print(f"listening on port {port}", flush=True)
        server.serve_forever()


if __name__ == "__main__":
    main()
