"""Lab 5: a concurrent echo server, one process per client (socketserver.ForkingTCPServer)."""

import socketserver
import sys


class Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        try:
            while data := self.request.recv(16384):
                self.request.sendall(data)
        except ConnectionError:
            pass


class Server(socketserver.ForkingTCPServer):
    allow_reuse_address = True
    request_queue_size = 128


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    with Server(("", port), Echo) as server:
        print(f"listening on port {port}", flush=True)
        server.serve_forever()


if __name__ == "__main__":
    main()
