"""Lab 9, the socket file (asyncio solution): chmod after bind, and a claim object.

Design: ``Claim`` probes the path (stale, live, or not a socket), binds, and
``os.chmod``s the file to 0660 before the caller listens or reads. It remembers that
*it* bound the path; ``release()`` removes the file only then. Shutdown on SIGTERM is
the servers' business (asyncio's ``loop.add_signal_handler``), not this module's.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import stat
import sys

MODE = 0o660


def exit_on_sigterm_until_loop() -> None:
    """Before the event loop takes SIGTERM over, it still ends the program cleanly."""
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))


class Refused(Exception):
    """The path is someone else's: a live server, or not a socket at all."""


class Claim:
    def __init__(self, path: str, kind: int) -> None:
        self.path, self.kind, self.bound = path, kind, False

    def _clear(self) -> None:
        try:
            mode = os.lstat(self.path).st_mode
        except FileNotFoundError:
            return
        if not stat.S_ISSOCK(mode):
            raise Refused(f"{self.path} is not a socket")
        with socket.socket(socket.AF_UNIX, self.kind) as probe:
            try:
                probe.connect(self.path)
            except ConnectionRefusedError:
                os.remove(self.path)  # stale: nobody behind it
                return
            except OSError as exc:
                raise Refused(f"{self.path}: {exc}") from exc
        raise Refused(f"{self.path} is live: another server answers there")

    def bind(self) -> socket.socket:
        self._clear()
        sock = socket.socket(socket.AF_UNIX, self.kind)
        sock.bind(self.path)
        self.bound = True
        os.chmod(self.path, MODE)
        return sock

    def release(self) -> None:
        if self.bound:
            self.bound = False
            with contextlib.suppress(FileNotFoundError):
                os.remove(self.path)
