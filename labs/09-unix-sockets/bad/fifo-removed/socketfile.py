"""Lab 9 reference: a socket that is a file — claim its path, set its mode, remove it on exit."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
from collections.abc import Iterator

MODE = 0o660  # the owner and the owner's group may connect; everyone else is refused


def exit_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit, so that ``finally`` blocks run and remove the file."""
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(0))


def remove_stale(path: str, kind: int) -> None:
    """Remove a socket file that nobody serves; leave a live socket or any other file alone."""
    if not os.path.lexists(path):
        return
    if os.path.islink(path) or os.path.isfile(path) or os.path.isdir(path):
        sys.exit(f"{path} exists and is not a socket: not removing it")
    with socket.socket(socket.AF_UNIX, kind) as probe:
        try:
            probe.connect(path)
        except ConnectionRefusedError:  # a file left by a crashed run: no socket behind it
            os.unlink(path)
            print(f"removed the stale socket file {path}", flush=True)
            return
        except OSError as exc:
            sys.exit(f"{path} is a socket I cannot use ({exc}): not removing it")
    sys.exit(f"{path}: another server is running there")


@contextlib.contextmanager
def claimed(path: str, kind: int) -> Iterator[socket.socket]:
    """A socket of ``kind`` bound at ``path`` with mode 0660; the file goes when the block ends."""
    remove_stale(path, kind)
    with socket.socket(socket.AF_UNIX, kind) as sock:
        sock.bind(path)
        try:  # from here on the file is ours, and only ours to remove
            os.chmod(path, MODE)  # before listen(): no client can connect in between
            yield sock
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
