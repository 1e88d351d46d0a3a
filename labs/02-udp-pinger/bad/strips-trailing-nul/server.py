"""Known wrong: a socketserver UDP server that drops trailing NUL bytes."""

import socketserver
import sys


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        data, sock = self.request
        sock.sendto(data.rstrip(b"\x00"), self.client_address)  # drop C-string padding

class Server(socketserver.UDPServer):
    max_packet_size = 65535

Server(("", int(sys.argv[1])), Handler).serve_forever()
