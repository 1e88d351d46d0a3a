"""Lab 4 reference: the framing both ends speak.

A frame is a 5-byte header -- one kind byte (b"M" a message, b"E" an error) and the
payload's length as 4 bytes, big-endian, unsigned -- followed by the payload.
"""

import socket
import struct

HEADER = struct.Struct("!cI")  # network byte order: kind (1 byte), length (4 bytes)
MAX_SIZE = 1024 * 1024  # the longest payload either end accepts: 1 MiB


def recv_exactly(sock: socket.socket, size: int) -> bytes | None:
    """Exactly ``size`` bytes, however the stream cut them; None if it ends first."""
    data = bytearray()
    while len(data) < size:
        chunk = sock.recv(min(size - len(data), 65536))
        if not chunk:  # the peer closed: at a frame boundary or in the middle of one
            return None
        data += chunk
    return bytes(data)


def recv_header(sock: socket.socket) -> tuple[bytes, int] | None:
    """The next frame's (kind, length), or None when the stream ends."""
    header = recv_exactly(sock, HEADER.size)
    return None if header is None else HEADER.unpack(header)


def send_frame(sock: socket.socket, kind: bytes, payload: bytes) -> None:
    # sendall(), not send(): send() may take only part of a large buffer and say so
    sock.sendall(HEADER.pack(kind, len(payload)) + payload)
