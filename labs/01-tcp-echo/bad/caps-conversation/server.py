"""Known wrong: a threading socketserver that ends a conversation after 2 MiB."""

import socketserver
import sys

MAX_CONVERSATION = 2 * 1024 * 1024  # protect the server's memory

class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        total = 0
        while total < MAX_CONVERSATION:
            data = self.request.recv(65536)
            if not data:
                break
            total += len(data)
            self.request.sendall(data)

class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

Server(("", int(sys.argv[1])), Echo).serve_forever()
