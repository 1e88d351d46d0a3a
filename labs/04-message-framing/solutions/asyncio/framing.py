"""Lab 4 alternative solution: framing with ``recv_into`` and ``memoryview``.

Design: ``recv_exactly`` allocates the exact buffer once (callers check a length
against MAX_SIZE first) and fills it in place with ``recv_into`` a ``memoryview`` slice,
so a 1 MiB payload is never copied piece by piece. ``send_frame`` hands the header and
the payload to ``sendall`` separately (no concatenated copy of the payload).
"""

import socket
import struct

HEADER = struct.Struct("!cI")  # kind (1 byte), payload length (4 bytes, big-endian)
MAX_SIZE = 1024 * 1024  # the longest payload either end accepts: 1 MiB


def recv_exactly(sock: socket.socket, size: int) -> bytes | None:
    """Exactly ``size`` bytes, however the stream cut them; None if it ends first."""
    buffer = bytearray(size)
    view = memoryview(buffer)
    filled = 0
    while filled < size:
        n = sock.recv_into(view[filled:])
        if n == 0:
            return None
        filled += n
    return bytes(buffer)


def recv_header(sock: socket.socket) -> tuple[bytes, int] | None:
    """The next frame's (kind, length), or None when the stream ends."""
    raw = recv_exactly(sock, HEADER.size)
    if raw is None:
        return None
    kind, length = HEADER.unpack(raw)
    return kind, length


def send_frame(sock: socket.socket, kind: bytes, payload: bytes) -> None:
    """Send one frame: header, then payload, each with ``sendall``."""
    sock.sendall(HEADER.pack(kind, len(payload)))
    if payload:
        sock.sendall(payload)
