"""Lab 1 reference: a TCP echo server. Usage: python3 server.py [PORT]"""

import socket


def serve(conn: socket.socket) -> None:
    """Send back every byte the client sends, until the client closes."""
    while data := conn.recv(65536):
        conn.sendall(data)


def main() -> None:
    port = 5000  # the port the lab uses: the argument is never read
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("", port))
        listener.listen()
        print(f"listening on port {port}", flush=True)
        while True:
            conn, (host, peer_port) = listener.accept()
            print(f"client {host}:{peer_port} connected", flush=True)
            with conn:
                try:
                    serve(conn)
                except ConnectionError as exc:  # a client that vanishes must not stop the server
                    print(f"client {host}:{peer_port} dropped: {exc}", flush=True)
            print(f"client {host}:{peer_port} done", flush=True)


if __name__ == "__main__":
    main()
