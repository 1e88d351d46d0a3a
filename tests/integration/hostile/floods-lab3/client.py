"""The same student's client, reading the flood without keeping it: the test counts OOM
kills to show the checker's probes are bounded, so no program of the student's may be the
one that fills the container (the reference client keeps the whole reply until the
server's FIN, which here never comes)."""

import socket
import sys


def main() -> None:
    host, port, message = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()
    with socket.create_connection((host, port)) as sock:
        sock.sendall(message)
        sock.shutdown(socket.SHUT_WR)
        kept = b""
        while chunk := sock.recv(65536):
            kept = (kept + chunk)[-4096:]  # only the end of the reply
    sys.stdout.write(kept.decode(errors="replace"))


if __name__ == "__main__":
    main()
