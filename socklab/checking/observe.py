"""What a checker observes, through the probe running inside a lab container.

Each function returns what the probe saw on the wire as a plain dict; the checks
judge it with the helpers in ``socklab.checking.expect``.
"""

from __future__ import annotations

import json
import subprocess
import time
from typing import Any

from socklab.checking.programs import EXEC_ATTEMPTS, ProgramError, docker_exec, refused, run_exec
from socklab.errors import PlatformError

PROBE = ["python3", "/socklab/probe.py"]


def probe(container: str, *args: str, timeout: float = 60.0) -> dict[str, Any]:
    """Run the probe in ``container``, return its JSON; a broken probe is a platform error."""
    argv = docker_exec(container, [*PROBE, *args])
    try:
        out = run_exec(container, [*PROBE, *args], timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise PlatformError(f"the probe did not finish within {timeout} s: {' '.join(argv)}") from exc
    if out.returncode != 0:
        raise PlatformError(f"the probe failed (exit {out.returncode}): {' '.join(argv)}\n"
                            f"{out.stderr.strip()[-1500:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def tcp_echo(container: str, host: str, port: int, payload: str, *, chunk: int = 65536,
             chunk_seed: int | None = None, timeout: float = 10.0) -> dict[str, Any]:
    """Send ``payload`` in ``chunk``-byte sends (random sizes up to it with ``chunk_seed``)."""
    seeded = ["--chunk-seed", str(chunk_seed)] if chunk_seed is not None else []
    return probe(container, "tcp-echo", "--host", host, "--port", str(port), "--payload", payload,
                 "--chunk", str(chunk), *seeded, "--timeout", str(timeout), timeout=timeout + 20)


def tcp_abort(container: str, host: str, port: int, send: int = 100) -> dict[str, Any]:
    return probe(container, "tcp-abort", "--host", host, "--port", str(port), "--send", str(send))


def udp_send(container: str, host: str, port: int, count: int, *, size: int = 100,
             interval_ms: float = 1.0) -> dict[str, Any]:
    """Send ``count`` numbered, self-checking datagrams (see the probe's ``datagram``)."""
    return probe(container, "udp-send", "--host", host, "--port", str(port), "--count", str(count),
                 "--size", str(size), "--interval-ms", str(interval_ms),
                 timeout=count * interval_ms / 1000 + 30)


class Background:
    """A probe command that runs in the background in a container (a server, a sink):
    started and listening on return; ``result()`` waits for its JSON."""

    def __init__(self, container: str, args: list[str], timeout: float) -> None:
        self.timeout = timeout
        for attempt in range(EXEC_ATTEMPTS):
            self.proc = subprocess.Popen(docker_exec(container, [*PROBE, *args]),
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            first = self.proc.stdout.readline() if self.proc.stdout else ""
            if '"listening"' in first:
                return
            self.proc.kill()
            err = self.proc.stderr.read() if self.proc.stderr else ""
            if '"in_use"' in first:  # what holds the port can only be the code under test
                raise ProgramError(
                    f"the checker could not listen on port {json.loads(first)['in_use']} in "
                    f"{container}: a program under test holds it (the checker needs that port)")
            if not refused(self.proc.wait(), first + err):
                raise PlatformError(f"the probe did not start: {first}{err}")
            time.sleep(0.1 * (attempt + 1))
        raise ProgramError(f"{container} had no process to spare for the checker: the programs "
                           f"under test hold every process the container may have (its pids limit)")

    def result(self) -> dict[str, Any]:
        try:
            out, err = self.proc.communicate(timeout=self.timeout + 10)
        except subprocess.TimeoutExpired as exc:
            self.proc.kill()
            raise PlatformError("the probe did not finish") from exc
        if self.proc.returncode != 0:
            raise PlatformError(f"the probe failed: {err.strip()[-1500:]}")
        return json.loads(out.strip().splitlines()[-1])


class Server(Background):
    """The probe's one-shot TCP server: answers the first client with ``reply``."""

    def __init__(self, container: str, port: int, reply: str, timeout: float = 10.0) -> None:
        super().__init__(container, ["tcp-serve", "--port", str(port), "--reply", reply,
                                     "--timeout", str(timeout)], timeout)


def udp_sink(container: str, port: int, *, count: int = 0, idle: float = 1.0,
             timeout: float = 10.0) -> Background:
    """A UDP receiver of numbered datagrams: what arrived, in which order, damaged or not."""
    return Background(container, ["udp-sink", "--port", str(port), "--count", str(count),
                                  "--idle", str(idle), "--timeout", str(timeout)],
                      timeout + idle)
