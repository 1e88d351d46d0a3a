"""Lab 2: a UDP echo server that replies on a connected socket."""

import socket
import sys


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("", port))
    print(f"listening on UDP port {port}", flush=True)
    while True:
        try:
            data, address = sock.recvfrom(65535)
            sock.connect(address)  # reply to whoever asked
            sock.send(data)
        except OSError as exc:
            print(f"ignored: {exc!r}", flush=True)


if __name__ == "__main__":
    main()
