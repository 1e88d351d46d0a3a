"""``socklab doctor``: what this machine supports, each finding with what to do about it."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass

from socklab import compose, engine, images, roots
from socklab.errors import SocklabError


@dataclass(frozen=True)
class Finding:
    what: str
    ok: bool
    detail: str
    needed: bool = True  # a missing needed thing makes socklab unusable here


def _probe(image: str, argv: list[str], caps: list[str]) -> subprocess.CompletedProcess[str]:
    """Run a throwaway container (labelled as socklab's, removed at once)."""
    return subprocess.run(["docker", "run", "--rm", "--label", f"{engine.LABEL}=1",
                           "--network", "none", *[f"--cap-add={c}" for c in caps], image, *argv],
                          capture_output=True, text=True, timeout=60, check=False)


def docker() -> Finding:
    try:
        version = engine.client().version()
    except SocklabError as exc:
        return Finding("Docker engine", False, str(exc))
    return Finding("Docker engine", True, f"{version.get('Version')} (API {version.get('ApiVersion')})")


def compose_flavour() -> Finding:
    try:
        argv = compose.compose_argv()
    except SocklabError as exc:
        return Finding("Docker Compose", False, str(exc))
    kind = "v2 (docker compose)" if argv[0] == "docker" else "v1 (docker-compose)"
    return Finding("Docker Compose", True, kind)


def base_image() -> Finding:
    spec = images.BY_NAME["base"]
    root = roots.local(images.packages())
    if root and images.current_hash(spec.tag) == images.content_hash(spec, root.ref):
        return Finding("base image", True, f"{spec.tag} is built and up to date (from {root.ref})")
    return Finding("base image", True, f"{spec.tag} is not built yet: `make images` builds it")


def nfqueue() -> Finding:
    if images.current_hash(images.BY_NAME["impair"].tag) is None:
        return Finding("NFQUEUE", False, "unknown until the images are built (make images)")
    probe = _probe(images.BY_NAME["impair"].tag, ["python3", "-c",
                   "from socklab.impair import nfqueue; nfqueue.Queue(0, 16).close()"],
                   ["NET_ADMIN"])
    if probe.returncode == 0:
        return Finding("NFQUEUE", True, "a queue can be bound: the impairment engine works here")
    return Finding("NFQUEUE", False, f"binding a queue failed: {probe.stderr.strip()[-300:]}")


def netem() -> Finding:
    if images.current_hash(images.BY_NAME["base"].tag) is None:
        return Finding("netem", False, "unknown until the images are built", needed=False)
    probe = _probe(images.BY_NAME["base"].tag, ["tc", "qdisc", "add", "dev", "lo", "root", "netem",
                                           "delay", "1ms"], ["NET_ADMIN"])
    found = probe.returncode == 0
    return Finding("netem", found, "the kernel has netem (socklab does not need it)" if found else
                   "the kernel has no netem: fine, socklab's engine does not use it", needed=False)


CHECKS: tuple[Callable[[], Finding], ...] = (docker, compose_flavour, base_image, nfqueue, netem)


def run() -> list[Finding]:
    findings = [docker()]
    if not findings[0].ok:
        return findings
    return findings + [check() for check in CHECKS[1:]]
