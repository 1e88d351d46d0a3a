"""Lab 5 reference: a concurrent TCP echo server, one thread per client.

Usage: python3 server.py [PORT]
"""

import socket
import sys
import threading


def serve(conn: socket.socket, peer: str) -> None:
    """Echo one client until it closes. Runs in the client's own thread, so it may block."""
    with conn:  # closed however the conversation ends: the thread leaves nothing behind
        conn.settimeout(5.0)  # a client silent for 5 s is gone: free its thread
        try:
            while data := conn.recv(65536):
                conn.sendall(data)
        except (ConnectionError, TimeoutError) as exc:  # a client that vanishes ends only its own thread
            print(f"client {peer} dropped: {exc}", flush=True)
    print(f"client {peer} done", flush=True)


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("", port))
        listener.listen()
        print(f"listening on port {port}", flush=True)
        while True:
            conn, (host, peer_port) = listener.accept()
            peer = f"{host}:{peer_port}"
            print(f"client {peer} connected", flush=True)
            # daemon: a thread still serving a client does not keep the server alive on Ctrl-C
            threading.Thread(target=serve, args=(conn, peer), daemon=True).start()


if __name__ == "__main__":
    main()
