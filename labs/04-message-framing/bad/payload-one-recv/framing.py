"""Known wrong: reads a header whole, but a payload with a single recv()."""

import socket
import struct

HEADER = struct.Struct("!cI")
MAX_SIZE = 1024 * 1024


def recv_exactly(sock: socket.socket, size: int) -> bytes | None:
    data = sock.recv(size) if size else b""  # recv(size) returns *up to* size bytes
    return data if data or not size else None


def recv_header(sock: socket.socket) -> tuple[bytes, int] | None:
    header = bytearray()
    while len(header) < HEADER.size:
        chunk = sock.recv(HEADER.size - len(header))
        if not chunk:
            return None
        header += chunk
    return HEADER.unpack(header)


def send_frame(sock: socket.socket, kind: bytes, payload: bytes) -> None:
    sock.sendall(HEADER.pack(kind, len(payload)) + payload)
