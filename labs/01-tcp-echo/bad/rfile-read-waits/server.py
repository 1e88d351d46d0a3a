"""Lab 1: an iterative socketserver echo server reading through the handler's rfile."""

import socketserver
import sys


class Echo(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        try:
            while chunk := self.rfile.read(4096):
                self.wfile.write(chunk)
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
