"""Known wrong: writes the data packets as they arrive, until the FIN; acknowledges nothing."""

import socket
import sys

from rdt import DATA, FIN, unpack

port, path = int(sys.argv[1]), sys.argv[2]
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock, open(path, "wb") as out:
    sock.bind(("", port))
    while True:
        parsed = unpack(sock.recv(65535))
        if parsed is None:
            continue
        kind, seq, payload = parsed
        if kind == DATA:
            out.write(payload)
        elif kind == FIN:
            break
