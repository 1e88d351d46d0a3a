"""Lab 1: an iterative echo server with recv_into a fixed buffer."""

import socket
import sys


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("", port))
    listener.listen()
    print(f"listening on port {port}", flush=True)
    buffer = bytearray(1500)
    view = memoryview(buffer)
    while True:
        conn, peer = listener.accept()
        n = conn.recv_into(buffer)
        if n == 0:
            conn.close()
            break
        try:
            while n:
                conn.sendall(view[:n])
                n = conn.recv_into(buffer)
        except ConnectionError as exc:
            print(f"client {peer}: dropped ({exc!r})", flush=True)
        conn.close()
    listener.close()


if __name__ == "__main__":
    main()
