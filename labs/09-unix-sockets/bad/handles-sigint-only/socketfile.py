"""Lab 9, the socket file (selectors solution): umask before bind, an inode to remove.

Design: the mode is set by ``os.umask(0o117)`` around ``bind()``, so the file is born
``0660`` and there is no moment at which it has any other mode. The inode that our
``bind()`` created is remembered, and on exit the path is removed only if it is still
that inode. SIGTERM raises ``SystemExit`` (via ``sys.exit``), so ``finally`` runs.
"""

from __future__ import annotations

import errno
import os
import signal
import socket
import stat
import sys


def on_sigterm_exit() -> None:
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C runs finally


def check_path(path: str, kind: int) -> None:
    """Return if the path is free (or was stale and is now removed); else exit(1)."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(info.st_mode):
        sys.exit(f"{path}: exists and is not a socket; not touching it")
    probe = socket.socket(socket.AF_UNIX, kind)
    try:
        probe.connect(path)
    except ConnectionRefusedError:
        os.unlink(path)
        print(f"{path}: removed a stale socket file", flush=True)
        return
    except OSError as exc:
        # e.g. EPROTOTYPE: a live socket of the other type; anything else: unknown
        why = "in use by a socket of another type" if exc.errno == errno.EPROTOTYPE else exc
        sys.exit(f"{path}: {why}; not touching it")
    finally:
        probe.close()
    sys.exit(f"{path}: another server is listening there")


def bind_0660(path: str, kind: int) -> tuple[socket.socket, int]:
    """A socket bound at path, file mode 0660 from birth; and the file's inode."""
    sock = socket.socket(socket.AF_UNIX, kind)
    old = os.umask(0o117)
    try:
        sock.bind(path)
    finally:
        os.umask(old)
    return sock, os.lstat(path).st_ino


def remove_if_mine(path: str, inode: int) -> None:
    try:
        if os.lstat(path).st_ino == inode:
            os.unlink(path)
    except FileNotFoundError:
        pass
