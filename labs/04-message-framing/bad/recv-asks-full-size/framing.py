"""Lab 4: framing with a list of chunks and ``sendmsg``."""

import socket
import struct

HEADER = struct.Struct("!cI")  # kind (1 byte), payload length (4 bytes, big-endian)
MAX_SIZE = 1024 * 1024  # the longest payload either end accepts: 1 MiB
CHUNK = 16 * 1024


def recv_exactly(sock: socket.socket, size: int) -> bytes | None:
    """Exactly ``size`` bytes, however the stream cut them; None if it ends first."""
    chunks = []
    missing = size
    while missing:
        chunk = sock.recv(min(size, CHUNK))
        if not chunk:
            return None
        chunks.append(chunk)
        missing -= len(chunk)
    return b"".join(chunks)


def recv_header(sock: socket.socket) -> tuple[bytes, int] | None:
    """The next frame's (kind, length), or None when the stream ends."""
    raw = recv_exactly(sock, HEADER.size)
    return None if raw is None else HEADER.unpack(raw)


def send_frame(sock: socket.socket, kind: bytes, payload: bytes) -> None:
    """Send header and payload with ``sendmsg``, resuming after every partial send."""
    buffers = [memoryview(HEADER.pack(kind, len(payload))), memoryview(payload)]
    while buffers:
        sent = sock.sendmsg(buffers)
        while buffers and sent >= len(buffers[0]):
            sent -= len(buffers[0])
            buffers.pop(0)
        if buffers:
            buffers[0] = buffers[0][sent:]
