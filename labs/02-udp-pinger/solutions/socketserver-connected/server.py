"""Lab 2 alternative solution: a ``socketserver.UDPServer`` echo server.

Design: the standard library's UDP server, one handler call per datagram. Its default
``max_packet_size`` is 8192, which would cut longer datagrams: it is raised to 65535,
the largest a datagram can carry. The handler answers from the server's socket to the
address the datagram came from.
"""

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
    with Server(("", port), Echo) as server:
        print(f"listening on UDP port {port}", flush=True)
        server.serve_forever()


if __name__ == "__main__":
    main()
