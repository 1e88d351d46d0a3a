"""Known wrong: a thread per client, each with a 3 s idle timeout."""

import socket
import sys
import threading


def handle(conn):
    conn.settimeout(3.0)  # don't let idle clients hog a thread
    with conn:
        try:
            while True:
                data = conn.recv(8192)
                if not data:
                    return
                conn.sendall(data)
        except (TimeoutError, ConnectionError):
            return

def main():
    port = int(sys.argv[1])
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen()
    while True:
        c, _ = s.accept()
        threading.Thread(target=handle, args=(c,), daemon=True).start()

main()
