"""Lab 1: an iterative ``socketserver.TCPServer``."""

import socket
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
    with Server((socket.gethostbyname(socket.gethostname()), port), Echo) as server:
        print(f"listening on port {port}", flush=True)
        server.serve_forever()


if __name__ == "__main__":
    main()
