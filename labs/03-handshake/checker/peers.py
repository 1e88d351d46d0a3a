"""The checker's own client and server (lab 3's probe, in the lab containers), and the
protocol they hold the student's programs to."""

from __future__ import annotations

import hashlib
import json
import subprocess
from typing import Any

from socklab.checking.programs import ProgramError, docker_exec, run_exec
from socklab.errors import PlatformError

PORT = 5000  # the student's server
CHECKER_PORT = 6000  # the checker's own server, when it tests the client
PROBE = ["python3", "/socklab/handshake.py"]


def answer(request: bytes) -> str:
    """The lab's protocol: the server answers a request with its size and SHA-256."""
    return f"{len(request)} {hashlib.sha256(request).hexdigest()}\n"


def probe(container: str, *args: str, timeout: float = 30.0) -> dict[str, Any]:
    """Run lab 3's probe in ``container``; a broken probe is the platform's failure."""
    try:
        out = run_exec(container, [*PROBE, *args], timeout=timeout)
    except subprocess.TimeoutExpired:
        raise PlatformError(f"the probe did not finish within {timeout:g} s: {args}") from None
    if out.returncode != 0:
        raise PlatformError(f"the probe failed (exit {out.returncode}): {args}\n"
                            f"{out.stderr.strip()[-1500:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


class ProbeServer:
    """The probe's one-client server in the background: listening once constructed."""

    def __init__(self, container: str, port: int, reply: str, *, pieces: int = 1,
                 gap_ms: float = 0, timeout: float = 5.0) -> None:
        self.timeout = timeout
        args = ["serve", "--port", str(port), "--reply", reply, "--pieces", str(pieces),
                "--gap-ms", str(gap_ms), "--timeout", str(timeout)]
        self.proc = subprocess.Popen(docker_exec(container, [*PROBE, *args]),
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        first = self.proc.stdout.readline() if self.proc.stdout else ""
        if '"listening"' not in first:
            self.proc.kill()
            if '"in_use"' in first:  # only the code under test can hold it
                raise ProgramError(f"the checker could not listen on port {port} in the server "
                                   f"container: a program under test holds it")
            raise PlatformError(f"the probe's server did not start: {first}"
                                f"{self.proc.stderr.read() if self.proc.stderr else ''}")

    def result(self) -> dict[str, Any]:
        try:
            out, err = self.proc.communicate(timeout=2 * self.timeout + 20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise PlatformError("the probe's server did not finish") from None
        if self.proc.returncode != 0:
            raise PlatformError(f"the probe's server failed: {err.strip()[-1500:]}")
        return json.loads(out.strip().splitlines()[-1])
