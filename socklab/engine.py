"""The one place socklab meets the Docker engine and runs host commands."""

from __future__ import annotations

import functools
import subprocess

import docker
import docker.errors

from socklab.errors import CommandError, PlatformError
from socklab.i18n import _

LABEL = "socklab"  # every Docker resource socklab creates carries this label
RUN_LABEL = "socklab.run"  # ... and the id of the run that owns it


@functools.cache
def client() -> docker.DockerClient:
    """The Docker engine, or a PlatformError that says none answers."""
    try:
        api = docker.from_env(timeout=120)
        api.ping()
    except docker.errors.DockerException as exc:
        raise PlatformError(
            _(
                "no Docker engine answers ({error}): `socklab doctor` (make doctor) says why and what to do"
            ).format(error=exc)
        ) from exc
    return api


def run(
    argv: list[str],
    *,
    timeout: float | None = None,
    env: dict[str, str] | None = None,
    input_bytes: bytes | None = None,
) -> str:
    """Run a host command, return its output; raise CommandError with its tail on failure."""
    try:
        proc = subprocess.run(
            argv,
            input=input_bytes,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=timeout,
            env=env,
            check=False,
        )
    except FileNotFoundError as exc:
        missing = _("{program} is not installed: {error}").format(program=argv[0], error=exc)
        raise PlatformError(missing) from exc
    except subprocess.TimeoutExpired as exc:
        out = (exc.output or b"").decode(errors="replace")
        late = _("timed out after {seconds} s").format(seconds=timeout)
        raise CommandError(argv, -1, f"{late}\n{out}") from exc
    output = proc.stdout.decode(errors="replace")
    if proc.returncode != 0:
        raise CommandError(argv, proc.returncode, output)
    return output
