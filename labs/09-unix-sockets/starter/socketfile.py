"""Lab 9: a socket that is a file — claim its path, set its mode, remove it on exit.

Both servers use this module. Read the lab's README.md first, then replace each TODO.
"""

from __future__ import annotations

import contextlib
import os  # noqa: F401 (for the TODOs)
import signal  # noqa: F401 (for the TODOs)
import socket
import stat  # noqa: F401 (for the TODOs)
import sys  # noqa: F401 (for the TODOs)
from collections.abc import Iterator

MODE = 0o660  # the owner and the owner's group may connect; everyone else is refused


def exit_on_sigterm() -> None:
    """Make SIGTERM end the program in a way that still runs ``finally`` blocks."""
    # TODO: install a handler for signal.SIGTERM that calls sys.exit(0). Without one,
    #       SIGTERM kills the process on the spot, and no finally block runs.


def remove_stale(path: str, kind: int) -> None:
    """Remove a socket file that nobody serves; leave a live socket or any other file alone."""
    # TODO: if nothing exists at path (os.lstat raises FileNotFoundError), return.
    # TODO: if what is there is not a socket (stat.S_ISSOCK), exit with an error: never
    #       delete a file you did not create.
    # TODO: try to connect a socket of the same kind to path:
    #       - ConnectionRefusedError: nobody serves it, it is stale: os.unlink(path);
    #       - connected: another server is running there: exit with an error.


@contextlib.contextmanager
def claimed(path: str, kind: int) -> Iterator[socket.socket]:
    """A socket of ``kind`` bound at ``path`` with mode 0660; the file goes when the block ends."""
    remove_stale(path, kind)
    with socket.socket(socket.AF_UNIX, kind) as sock:
        sock.bind(path)
        # TODO: os.chmod the file to MODE, before any client can connect.
        # TODO: yield sock inside try/finally, and remove the file in the finally block
        #       (only here: after *your* bind succeeded, the file is yours to remove).
        yield sock
