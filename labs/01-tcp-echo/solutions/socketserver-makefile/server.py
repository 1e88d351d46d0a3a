"""Lab 1 alternative solution: an iterative ``socketserver.TCPServer``.

Design: the standard library's ``TCPServer`` (one client after another) with a
``BaseRequestHandler`` that echoes through ``recv_into`` a fixed 1500-byte buffer and a
``memoryview`` of it (no new bytes object per read). ``allow_reuse_address`` plays the
part of SO_REUSEADDR; a reset is caught inside the handler so it ends only that client.
"""

import socketserver
import sys


class Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        buffer = bytearray(1500)
        view = memoryview(buffer)
        try:
            while n := self.request.recv_into(buffer):
                self.request.sendall(view[:n])
        except ConnectionError as exc:
            print(f"client {self.client_address}: dropped ({exc!r})", flush=True)


class Server(socketserver.TCPServer):
    allow_reuse_address = True


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    with Server(("", port), Echo) as server:
        print(f"listening on port {port}", flush=True)
        server.serve_forever()


if __name__ == "__main__":
    main()
