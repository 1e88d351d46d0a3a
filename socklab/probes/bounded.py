"""Bounded reading for the probes: a peer that sends without end is wrong, not a crash.

A peer that sends more than a probe expects is wrong already: a probe keeps what it
expected and ``KEEP`` bytes more (to show the excess), then stops reading and says so.
Without a bound, a flooding program fills the probe's memory until the container's limit
kills the probe: a platform error the student could cause at will. Every read also has a
deadline, so a peer that trickles a byte at a time cannot hold a probe past its check.

Stdlib only: the probes import it from beside them (``/socklab`` in a lab container).
"""

from __future__ import annotations

import socket
import time

KEEP = 1 << 20


def read_until(
    sock: socket.socket,
    got: bytearray,
    size: int | None,
    deadline: float,
    *,
    idle: float | None = None,
    keep: int = KEEP,
) -> bool:
    """Read into ``got`` until it holds ``size`` bytes (None: until EOF), ``deadline``
    passes, ``idle`` seconds pass without a byte, or it holds ``keep`` bytes more than it
    held or was to hold (see ``overflowed``); True if the peer closed."""
    limit = (len(got) if size is None else size) + keep
    while (size is None or len(got) < size) and len(got) <= limit:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        sock.settimeout(min(left, idle) if idle else left)
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            return False
        if not chunk:
            return True
        got += chunk
    return False


def stopped(received: int) -> str:
    """What a check says of a peer that sent more than a probe keeps."""
    return f"the checker stopped reading after {received} bytes (the server sends without end?)"


def overflowed(got: bytes | bytearray, expected: int = 0, keep: int = KEEP) -> bool:
    """Whether ``got`` holds more than ``keep`` bytes beyond the ``expected`` ones: the
    probe stopped reading there."""
    return len(got) > expected + keep
