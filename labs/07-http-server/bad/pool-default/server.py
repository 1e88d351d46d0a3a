"""Lab 7 reference: a minimal HTTP/1.1 server on plain sockets.

Usage: python3 server.py PORT ROOT

Serves the files under ROOT to GET and HEAD, answers the form's POST /submit, one
request per connection (README: "The protocol"). A thread per connection, so that a
client that sends its request slowly holds up no one else. One connection's life is in
connection.py; what to answer is decided in request.py, paths.py and response.py.
"""

import concurrent.futures
import socket
import sys

from connection import handle


def main() -> None:
    port, root = int(sys.argv[1]), sys.argv[2]
    pool = concurrent.futures.ThreadPoolExecutor()
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("", port))
    listener.listen()
    print(f"serving {root} on port {port}", flush=True)
    while True:
        conn, _ = listener.accept()
        pool.submit(handle, conn, root)


if __name__ == "__main__":
    main()
