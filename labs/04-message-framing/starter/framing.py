"""Lab 4: the framing both ends speak. server.py and client.py import it.

Read the lab's README.md first (section "The protocol"). Replace each TODO with the code
it describes.
"""

import socket
import struct

HEADER = struct.Struct("!cI")  # "!": network byte order; "c": the kind, 1 byte; "I": length, 4 bytes
MAX_SIZE = 1024 * 1024  # the longest payload either end accepts: 1 MiB


def recv_exactly(sock: socket.socket, size: int) -> bytes | None:
    """Exactly ``size`` bytes, however the stream cut them; None if it ends first."""
    # TODO: recv() returns *up to* the number of bytes you ask for: whatever has arrived,
    #       perhaps a single byte. Call it in a loop, asking for what is still missing, until
    #       you have `size` bytes. If it returns b"" first, the peer closed: return None.
    raise NotImplementedError("recv_exactly() is not written yet")


def recv_header(sock: socket.socket) -> tuple[bytes, int] | None:
    """The next frame's (kind, length), or None when the stream ends."""
    # TODO: recv_exactly() HEADER.size bytes; None if the stream ended, else HEADER.unpack() them.
    raise NotImplementedError("recv_header() is not written yet")


def send_frame(sock: socket.socket, kind: bytes, payload: bytes) -> None:
    # TODO: HEADER.pack(kind, len(payload)), and send the header and the payload with
    #       sendall(). Not send(): it may send only part of a large buffer.
    raise NotImplementedError("send_frame() is not written yet")
