"""Lab 5: a concurrent TCP echo server. Usage: python3 server.py [PORT]

Read the lab's README.md first. This is lab 1's server: it works, but serves one client
at a time, so a client that says nothing blocks everyone behind it. Make it serve many
clients at once, with threads, processes or selectors (the README shows all three).
"""

import socket
import sys


def serve(conn: socket.socket) -> None:
    """Send back every byte the client sends, until the client closes."""
    while data := conn.recv(65536):
        conn.sendall(data)


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("", port))
        listener.listen()
        print(f"listening on port {port}", flush=True)
        while True:
            conn, (host, peer_port) = listener.accept()
            # TODO: do not serve the client here, in the accept loop: while serve() runs,
            #       no other client is accepted. Hand the connection to a thread (or a
            #       process, or register it with a selector) and go straight back to accept().
            # TODO: whichever you choose, close each client's socket when its conversation
            #       ends, however it ends (a ConnectionError must end only that client), and
            #       leave no thread, process or open file behind.
            with conn:
                try:
                    serve(conn)
                except ConnectionError as exc:
                    print(f"client {host}:{peer_port} dropped: {exc}", flush=True)


if __name__ == "__main__":
    main()
