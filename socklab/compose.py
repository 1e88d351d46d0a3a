"""Run the topology in docker-compose.yml, one Compose project per run.

Each run gets a unique project name, its own pair of subnets and labels that
name the run and its owner, so runs never collide and cleanup removes only
what one run (or socklab as a whole) created.
"""

from __future__ import annotations

import functools
import ipaddress
import os
import random
import secrets
import shutil
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import docker.errors

from socklab import engine, impairing, roots
from socklab.errors import CommandError, PlatformError
from socklab.i18n import _

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
IMPAIR_FILE = ROOT / "docker-compose.impair.yml"  # laid over it when the link is impaired
PROBES = Path(__file__).resolve().parent / "probes"
POOL = "198.18.0.0/15"  # RFC 2544's benchmarking range: rarely used by real networks
SERVICES = ("router", "client", "server")


@functools.cache
def compose_argv() -> tuple[str, ...]:
    """``docker compose`` (v2) where it exists, else ``docker-compose`` (v1)."""
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
        if probe.returncode == 0:
            return ("docker", "compose")
    if shutil.which("docker-compose"):
        return ("docker-compose",)
    raise PlatformError(_("neither `docker compose` nor `docker-compose` is installed"))


def owner() -> str:
    """Who owns a run: this host and process, so orphans of dead runners can be found."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class Impairment:
    """The engine's settings for one run: which profile, which seed, where its log goes."""

    profile: str
    seed: int
    artifacts: Path


@dataclass(frozen=True)
class Topology:
    """One run's network: its Compose project and addresses."""

    project: str
    client_subnet: ipaddress.IPv4Network
    server_subnet: ipaddress.IPv4Network
    impairment: Impairment | None = None
    images: tuple[tuple[str, str], ...] = ()  # (host, image name) where not the plain host image

    @property
    def run_id(self) -> str:
        return self.project

    def container(self, service: str) -> str:
        return f"{self.project}-{service}"

    def addresses(self) -> dict[str, str]:
        c, s = self.client_subnet, self.server_subnet
        return {
            "client": str(c[10]),
            "server": str(s[10]),
            "router_client": str(c[2]),
            "router_server": str(s[2]),
            "client_gateway": str(c[1]),
            "server_gateway": str(s[1]),
        }  # the Docker host

    def files(self) -> list[Path]:
        return [COMPOSE_FILE, *([IMPAIR_FILE] if self.impairment else [])]

    def env(self, code: Path) -> dict[str, str]:
        a = self.addresses()
        imp = self.impairment
        engine_env = (
            {
                "SOCKLAB_PROFILE": imp.profile,
                "SOCKLAB_SEED": str(imp.seed),
                "SOCKLAB_ARTIFACTS": str(imp.artifacts),
            }
            if imp
            else {}
        )
        image = dict(self.images)
        prefix = roots.prefix()  # the images' names: tests build theirs under another prefix
        return {
            **engine_env,
            "SOCKLAB_HOST_IMAGE": f"{prefix}host:latest",
            "SOCKLAB_ROUTER_IMAGE": f"{prefix}router:latest",
            "SOCKLAB_IMPAIR_IMAGE": f"{prefix}impair:latest",
            "SOCKLAB_CLIENT_IMAGE": f"{prefix}{image.get('client', 'host')}:latest",
            "SOCKLAB_SERVER_IMAGE": f"{prefix}{image.get('server', 'host')}:latest",
            "SOCKLAB_PROJECT": self.project,
            "SOCKLAB_RUN": self.run_id,
            "SOCKLAB_OWNER": owner(),
            "SOCKLAB_CODE": str(code),
            "SOCKLAB_PROBES": str(PROBES),
            "SOCKLAB_CLIENT_SUBNET": str(self.client_subnet),
            "SOCKLAB_SERVER_SUBNET": str(self.server_subnet),
            "SOCKLAB_CLIENT_IP": a["client"],
            "SOCKLAB_SERVER_IP": a["server"],
            "SOCKLAB_ROUTER_CLIENT_IP": a["router_client"],
            "SOCKLAB_ROUTER_SERVER_IP": a["router_server"],
            "SOCKLAB_CLIENT_GATEWAY": a["client_gateway"],
            "SOCKLAB_SERVER_GATEWAY": a["server_gateway"],
        }


def subnet_pairs(pool: str = POOL) -> list[tuple[ipaddress.IPv4Network, ipaddress.IPv4Network]]:
    """The pool cut into pairs of adjacent /24s: (client, server)."""
    nets = list(ipaddress.IPv4Network(pool).subnets(new_prefix=24))
    return [(nets[i], nets[i + 1]) for i in range(0, len(nets) - 1, 2)]


def used_subnets() -> set[ipaddress.IPv4Network]:
    used = set()
    for net in engine.client().networks.list():
        for cfg in (net.attrs.get("IPAM") or {}).get("Config") or []:
            if "Subnet" in cfg and ":" not in cfg["Subnet"]:
                used.add(ipaddress.IPv4Network(cfg["Subnet"]))
    return used


def destroy_sockets(project: str, container: str, *selection: str) -> None:
    """Destroy the TCP sockets ``ss`` selects (e.g. ``state time-wait``) in ``container``'s
    network namespace. ``ss -K`` needs NET_ADMIN, which the lab's hosts never have: a
    one-shot container of the run's, with only that capability, joins their namespace."""
    image = engine.client().containers.get(container).attrs["Config"]["Image"]
    engine.run(
        [
            "docker",
            "run",
            "--rm",
            "--network",
            f"container:{container}",
            "--user",
            "0",
            "--cap-drop",
            "ALL",
            "--cap-add",
            "NET_ADMIN",
            "--security-opt",
            "no-new-privileges:true",
            "--label",
            "socklab=1",
            "--label",
            f"socklab.run={project}",
            "--label",
            f"socklab.owner={owner()}",
            image,
            "ss",
            "-K",
            "-tn",
            *selection,
        ],
        timeout=60,
    )


def new_project(prefix: str = "socklab") -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


def compose(topo: Topology, code: Path, *args: str, timeout: float = 180) -> str:
    files = [arg for path in topo.files() for arg in ("-f", str(path))]
    argv = [*compose_argv(), "-p", topo.project, *files, *args]
    return engine.run(argv, timeout=timeout, env={**os.environ, **topo.env(code)})


def up(
    code: Path,
    *,
    project: str | None = None,
    impairment: Impairment | None = None,
    images: dict[str, str] | None = None,
    attempts: int = 8,
) -> Topology:
    """Start a fresh topology with ``code`` mounted read-only; return it once routed
    (and, with an ``impairment``, once the engine is ready).

    Picks a free pair of subnets; when another run takes the same pair at the same
    moment, tears down and tries another.
    """
    project = project or new_project()
    pairs = subnet_pairs()
    rng = random.Random()  # which subnets is no grading decision: it needs no seed
    last: Exception | None = None
    for _attempt in range(attempts):
        used = used_subnets()
        free = [p for p in pairs if not any(n.overlaps(u) for n in p for u in used)]
        if not free:
            raise PlatformError(
                _("no free pair of subnets left in {pool}: run `make clean`?").format(pool=POOL)
            )
        topo = Topology(
            project, *rng.choice(free), impairment=impairment, images=tuple(sorted((images or {}).items()))
        )
        try:
            compose(topo, code, "up", "-d", "--no-build")
            wait_routed(topo)
            if impairment:
                impairing.wait_ready(topo.container("impair"))
            return topo
        except CommandError as exc:
            down(project)
            last = exc
            if "overlap" not in exc.output.lower() and "in use" not in exc.output.lower():
                raise
    raise PlatformError(
        _("could not start the topology after {attempts} attempts: {error}").format(
            attempts=attempts, error=last
        )
    )


def wait_routed(topo: Topology, timeout: float = 30) -> None:
    """Wait until both route sidecars have exited; fail unless both succeeded."""
    api = engine.client()
    deadline = time.monotonic() + timeout
    for side in ("client-net", "server-net"):
        while True:
            state = api.containers.get(topo.container(side)).attrs["State"]
            if state["Status"] == "exited":
                if state["ExitCode"] != 0:
                    logs = api.containers.get(topo.container(side)).logs().decode(errors="replace")
                    failed = _("setting the routes of {side} failed:").format(side=side)
                    raise PlatformError(f"{failed}\n{logs}")
                break
            if time.monotonic() > deadline:
                raise PlatformError(
                    _("{side} did not finish setting routes within {seconds} s").format(
                        side=side, seconds=timeout
                    )
                )
            time.sleep(0.05)


def down(project: str) -> None:
    """Remove every container, network and volume labelled with this run; safe twice."""
    remove(f"{engine.RUN_LABEL}={project}")


def sweep(project: str, quiet: float = 2.0, limit: float = 60.0) -> None:
    """Remove the run's resources until none has appeared for ``quiet`` seconds.

    After an interrupted start-up, or a killed runner, a Compose command or a create
    request may still be in flight: what it makes after one removal, the next one takes.
    """
    quiet_since = time.monotonic()
    deadline = quiet_since + limit
    while time.monotonic() - quiet_since < quiet and time.monotonic() < deadline:
        if remove(f"{engine.RUN_LABEL}={project}"):
            quiet_since = time.monotonic()
        time.sleep(0.25)


def remove(*labels: str) -> list[str]:
    """Remove socklab's containers, then networks and volumes, that carry ``labels``.

    Works through the labels, not Compose, so it also cleans runs whose Compose
    state is lost (a killed runner) and never touches anything unlabelled.
    """
    api = engine.client()
    selector = {"label": [engine.LABEL, *labels]}
    removed = []
    containers = api.containers.list(all=True, filters=selector, ignore_removed=True)
    # At once: each removal waits on its container's stop, and a run has five or more.
    with ThreadPoolExecutor(max_workers=8) as pool:
        for names in pool.map(lambda c: _remove(c, force=True), containers):
            removed += names
    for network in api.networks.list(filters=selector):
        removed += _remove(network)
    for volume in api.volumes.list(filters=selector):
        removed += _remove(volume)
    return removed


def _remove(obj: object, **kwargs: bool) -> list[str]:
    try:
        obj.remove(**kwargs)  # type: ignore[attr-defined]
    except docker.errors.NotFound:
        return []  # removed meanwhile by a concurrent cleanup
    except docker.errors.APIError as exc:
        if exc.status_code == 409 and "in progress" in str(exc):
            return []  # a concurrent cleanup (the reaper, `socklab clean`) is removing it
        name = obj.name  # type: ignore[attr-defined]
        raise PlatformError(_("could not remove {name}: {error}").format(name=name, error=exc)) from exc
    return [obj.name]  # type: ignore[attr-defined]
