"""Known wrong: send_frame() calls send() once and ignores how much it really sent."""

import socket
import struct

HEADER = struct.Struct("!cI")
MAX_SIZE = 1024 * 1024


def recv_exactly(sock: socket.socket, size: int) -> bytes | None:
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(min(size - len(data), 65536))
        if not chunk:
            return None
        data += chunk
    return bytes(data)


def recv_header(sock: socket.socket) -> tuple[bytes, int] | None:
    header = recv_exactly(sock, HEADER.size)
    return None if header is None else HEADER.unpack(header)


def send_frame(sock: socket.socket, kind: bytes, payload: bytes) -> None:
    sock.send(HEADER.pack(kind, len(payload)) + payload)
