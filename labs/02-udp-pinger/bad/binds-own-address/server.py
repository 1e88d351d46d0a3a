"""Lab 2: a ``socketserver.UDPServer`` echo server."""

import socket
import socketserver
import sys


class Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        data, sock = self.request
        sock.sendto(data, self.client_address)


class Server(socketserver.UDPServer):
    max_packet_size = 65535
    allow_reuse_address = True

    def handle_error(self, request, client_address) -> None:  # type: ignore[override]
        print(f"error with {client_address}; serving on", flush=True)


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    with Server((socket.gethostbyname(socket.gethostname()), port), Echo) as server:
        print(f"listening on UDP port {port}", flush=True)
        server.serve_forever()


if __name__ == "__main__":
    main()
