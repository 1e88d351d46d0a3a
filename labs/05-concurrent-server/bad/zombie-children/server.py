"""Lab 5, known wrong: a process per client, but the finished ones are never reaped.

Usage: python3 server.py [PORT]
"""

import os
import socket
import sys


def serve(conn: socket.socket) -> None:
    with conn:
        try:
            while data := conn.recv(65536):
                conn.sendall(data)
        except ConnectionError:
            pass


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("", port))
        listener.listen()
        print(f"listening on port {port}", flush=True)
        while True:
            conn, _ = listener.accept()
            if os.fork() == 0:  # the child serves this client, then exits
                listener.close()
                serve(conn)
                os._exit(0)
            conn.close()  # the parent's copy: the child has its own
            # The mistake: no os.waitpid() and no SIGCHLD handler, so every finished
            # child stays in the process table as a zombie until the server exits.


if __name__ == "__main__":
    main()
