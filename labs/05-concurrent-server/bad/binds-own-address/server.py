"""Lab 5: one process per client, reaped from a SIGCHLD handler."""

import os
import signal
import socket
import sys


def reap(signum: int, frame: object) -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:  # no children at all
            return
        if pid == 0:  # children left, none finished
            return


def serve(conn: socket.socket) -> None:
    with conn:
        try:
            while data := conn.recv(16384):
                conn.sendall(data)
        except ConnectionError:
            pass


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    signal.signal(signal.SIGCHLD, reap)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((socket.gethostbyname(socket.gethostname()), port))
    listener.listen(128)
    print(f"listening on port {port}", flush=True)
    while True:
        conn, _ = listener.accept()
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            listener.close()
            serve(conn)
            os._exit(0)
        conn.close()


if __name__ == "__main__":
    main()
