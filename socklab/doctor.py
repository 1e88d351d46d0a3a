"""``socklab doctor``: what this machine supports, each problem with the command that fixes it.

``gather()`` asks the real engine, Compose, the registry and the disk; ``advise(facts)``
decides, without I/O, what to say: it is what the unit tests feed with each situation.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import platform
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import docker
import docker.errors
from rich.cells import cell_len

from socklab import compose, engine, images, roots
from socklab.errors import SocklabError
from socklab.i18n import N_, _
from socklab.lab import Lab

NEEDED_GB = 2.0  # every image, the browser's included, with room for a rebuild

# The findings' names: English in Finding.what (tests and scripts look findings up by
# it), translated when shown.
ENGINE = N_("Docker engine")
COMPOSE = "Docker Compose"  # a product's name, the same in every language
IMAGES = N_("image path")
NFQUEUE = "NFQUEUE"
DISK = N_("disk")
# TRANSLATORS: the mark before a finding that is fine (socklab doctor's first column)
OK = N_("ok")
# TRANSLATORS: the mark before a problem that keeps socklab from running here
BROKEN = N_("NO")
# TRANSLATORS: the mark before a problem that only some labs suffer from (NFQUEUE)
LIMITED = N_("--")
MARK_WIDTH, WHAT_WIDTH = 3, 16  # at least, in terminal cells


@dataclass(frozen=True)
class Finding:
    what: str
    ok: bool
    detail: str
    fix: str = ""  # the command (or step) that fixes it, where there is a problem
    needed: bool = True  # a missing needed thing makes socklab unusable here


@dataclass(frozen=True)
class Facts:
    """What doctor found out; every field is plain data, so any situation can be written down."""

    system: str = "Linux"  # platform.system()
    wsl: bool = False
    engine_error: str | None = None  # None: the engine answered
    engine_version: str = ""
    operating_system: str = ""  # `docker info`: "Docker Desktop", "Debian GNU/Linux 12 ..."
    docker_host: str = ""  # $DOCKER_HOST
    context: str = "default"
    compose: str | None = None  # "v2", "v1", or None (neither)
    reference: str = roots.DEFAULT
    registry_digest: str | None = None  # the digest the registry gave; None: it did not answer
    registry_error: str = ""
    root_local: str | None = None  # a root already here (no pull needed)
    debootstrap: bool = False
    is_root: bool = False
    nfqueue: bool | None = None  # None: unknown (no impair image yet)
    nfqueue_error: str = ""
    impaired_labs: tuple[str, ...] = ()
    free_gb: float | None = None
    disk_path: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)


def start_engine(facts: Facts) -> str:
    """How to start a Docker engine on this system."""
    if facts.wsl:
        return _(
            "start Docker Desktop on Windows, and in its Settings > Resources > WSL integration "
            "turn this distribution on (or `sudo service docker start` for an engine inside WSL)"
        )
    if facts.system == "Darwin":
        return _("start Docker Desktop (`open -a Docker`), or `colima start`, or OrbStack (`orb start`)")
    if facts.system == "Windows":
        return _("start Docker Desktop, and run socklab inside WSL2")
    return _(
        "sudo systemctl start docker (no systemd: sudo dockerd &); not installed: see README Requirements"
    )


def _remote(facts: Facts) -> bool:
    return bool(facts.docker_host) and not facts.docker_host.startswith("unix://")


def engine_finding(facts: Facts) -> Finding:
    err = facts.engine_error
    if err is None:
        where = _("local")
        if _remote(facts):
            where = _("remote at DOCKER_HOST={host}: the lab folders must exist there too").format(
                host=facts.docker_host
            )
        elif "Docker Desktop" in facts.operating_system:
            where = "Docker Desktop"
        elif facts.context not in ("", "default"):
            where = _("docker context {context} ({system})").format(
                context=facts.context, system=facts.operating_system
            )
        # TRANSLATORS: the engine's version, then where it runs
        found = _("{version}, {where}").format(version=facts.engine_version, where=where)
        return Finding(ENGINE, True, found)
    if "permission denied" in err.lower():
        return Finding(
            ENGINE,
            False,
            _("the Docker socket is there, but you may not use it"),
            _("sudo usermod -aG docker $USER, then log out and in again (or `newgrp docker`)"),
        )
    if _remote(facts):
        return Finding(
            ENGINE,
            False,
            _("no engine answers at DOCKER_HOST={host}").format(host=facts.docker_host),
            _("start the engine there, or `unset DOCKER_HOST` to use the local one"),
        )
    if facts.context not in ("", "default"):
        return Finding(
            ENGINE,
            False,
            _("the docker context {context} does not answer").format(context=facts.context),
            _("start it (colima start, orb start ...), or `docker context use default`; {how}").format(
                how=start_engine(facts)
            ),
        )
    return Finding(ENGINE, False, _("no Docker engine is running"), start_engine(facts))


def compose_finding(facts: Facts) -> Finding:
    if facts.compose == "v2":
        return Finding(COMPOSE, True, "v2 (docker compose)")
    if facts.compose == "v1":
        return Finding(COMPOSE, True, _("v1 (docker-compose); v2 works too"))
    fix = (
        _(
            "sudo apt-get install docker-compose-plugin (Docker's apt repository) or docker-compose "
            "(Debian, Ubuntu)"
        )
        if facts.system == "Linux"
        else _("it comes with Docker Desktop")
    )
    return Finding(COMPOSE, False, _("neither `docker compose` nor `docker-compose` is here"), fix)


def _offline_fix(facts: Facts) -> str:
    """What to do where no registry answers and the offline path is not open either."""
    if facts.system != "Linux":
        return _("point SOCKLAB_BASE_IMAGE at a Debian bookworm image a registry you reach has")
    if not facts.debootstrap:
        return _(
            "point SOCKLAB_BASE_IMAGE at a Debian bookworm image a registry you reach has, or "
            "build offline once: sudo apt-get install debootstrap && sudo make images"
        )
    return _(
        "point SOCKLAB_BASE_IMAGE at a Debian bookworm image a registry you reach has, or "
        "build offline once as root: sudo make images"
    )


def images_finding(facts: Facts) -> Finding:
    ref = facts.reference
    if facts.registry_digest:
        return Finding(
            IMAGES,
            True,
            _(
                "pull: a registry gives {image} ({digest}...); images are built FROM it, no root needed"
            ).format(image=ref, digest=facts.registry_digest[:19]),
        )
    if facts.root_local:
        return Finding(
            IMAGES,
            True,
            _("a root is here already ({root}); no registry needed until it changes").format(
                root=facts.root_local
            ),
        )
    if facts.registry_error:
        why = _("no registry answers for {image} ({error})").format(
            image=ref, error=facts.registry_error[:120]
        )
    else:
        why = _("no registry answers for {image}").format(image=ref)
    if facts.debootstrap and facts.is_root:
        return Finding(IMAGES, True, _("offline: {why}; the root is built with debootstrap").format(why=why))
    return Finding(
        IMAGES,
        False,
        _("{why}, and the offline path (debootstrap, as root) is not available here").format(why=why),
        _offline_fix(facts),
    )


def nfqueue_finding(facts: Facts) -> Finding:
    labs = ", ".join(facts.impaired_labs)
    if facts.nfqueue is None:
        return Finding(
            NFQUEUE,
            True,
            _("unknown until the images are built (make images); needed by labs {labs}").format(labs=labs),
            needed=False,
        )
    if facts.nfqueue:
        return Finding(NFQUEUE, True, _("a queue can be bound: the impairment engine works here"))
    return Finding(
        NFQUEUE,
        False,
        _("binding a queue failed ({error}): labs {labs} cannot run here; the others can").format(
            error=facts.nfqueue_error[-160:], labs=labs
        ),
        _(
            "a kernel with CONFIG_NETFILTER_NETLINK_QUEUE (Docker Desktop, WSL2 and stock "
            "Linux kernels have it): sudo modprobe nfnetlink_queue"
        ),
        needed=False,
    )


def disk_finding(facts: Facts) -> Finding:
    if facts.free_gb is None:
        return Finding(DISK, True, _("the engine's disk is not on this machine: not checked"), needed=False)
    ok = facts.free_gb >= NEEDED_GB
    return Finding(
        DISK,
        ok,
        _("{free:.1f} GB free at {path} (the images need about {needed:.0f} GB)").format(
            free=facts.free_gb, path=facts.disk_path, needed=NEEDED_GB
        ),
        "" if ok else _("docker system prune (removes unused images), or free some space"),
    )


def advise(facts: Facts) -> list[Finding]:
    """What to tell the user, from the facts alone, in the reader's language."""
    first = engine_finding(facts)
    if not first.ok:
        return [first, compose_finding(facts)]
    return [first, compose_finding(facts), images_finding(facts), nfqueue_finding(facts), disk_finding(facts)]


def _pad(text: str, width: int) -> str:
    """``text`` filled to ``width`` terminal cells (a Chinese character takes two)."""
    return text + " " * max(0, width - cell_len(text))


def render(findings: list[Finding]) -> str:
    """The findings as ``socklab doctor`` prints them: a mark, the name, the detail, the fix."""
    width = max(MARK_WIDTH, *(cell_len(_(mark)) for mark in (OK, BROKEN, LIMITED)))
    lines = []
    for f in findings:
        mark = _(OK) if f.ok else _(BROKEN) if f.needed else _(LIMITED)
        lines.append(f"{_pad(mark, width)} {_pad(_(f.what), WHAT_WIDTH)} {f.detail}")
        if f.fix:
            fix = _("fix: {command}").format(command=f.fix)
            lines.append(f"{'':{width + WHAT_WIDTH + 2}}{fix}")
    return "\n".join(lines)


def _engine_facts() -> dict[str, object]:
    try:
        api = docker.from_env(timeout=20)
        info = api.info()
    except docker.errors.DockerException as exc:
        return {"engine_error": str(exc)}
    return {
        "engine_version": info.get("ServerVersion", ""),
        "operating_system": info.get("OperatingSystem", ""),
        "disk_path": info.get("DockerRootDir", ""),
    }


def _context() -> str:
    if not shutil.which("docker"):
        return "default"
    probe = subprocess.run(["docker", "context", "show"], capture_output=True, text=True, check=False)
    return probe.stdout.strip() or "default" if probe.returncode == 0 else "default"


def _compose() -> str | None:
    try:
        return "v2" if compose.compose_argv()[0] == "docker" else "v1"
    except SocklabError:
        return None


def _registry() -> dict[str, object]:
    try:
        data = engine.client().images.get_registry_data(roots.reference())
    except docker.errors.APIError as exc:
        return {"registry_error": str(exc.explanation or exc)}
    return {"registry_digest": data.id}


def _nfqueue() -> dict[str, object]:
    tag = images.BY_NAME["impair"].tag
    if images.current_hash(tag) is None:
        return {}
    probe = subprocess.run(
        [
            "docker",
            "run",
            "--rm",
            "--label",
            f"{engine.LABEL}=1",
            "--network",
            "none",
            "--cap-add=NET_ADMIN",
            tag,
            "python3",
            "-c",
            "from socklab.impair import nfqueue; nfqueue.Queue(0, 16).close()",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return {"nfqueue": probe.returncode == 0, "nfqueue_error": probe.stderr.strip()}


def _impaired_labs() -> tuple[str, ...]:
    from socklab import lab as labs

    found: list[Lab] = []
    for folder in labs.folders():
        with contextlib.suppress(SocklabError):  # `socklab labs` says what is wrong with it
            found.append(labs.load(folder))
    return tuple(str(lab.number) for lab in found if lab.profile != "clean")


def gather() -> Facts:
    """Ask the real engine, Compose, registry and disk."""
    found: dict[str, object] = {
        "system": platform.system(),
        "wsl": "microsoft" in platform.release().lower(),
        "docker_host": os.environ.get("DOCKER_HOST", ""),
        "context": _context(),
        "compose": _compose(),
        "reference": roots.reference(),
        "debootstrap": shutil.which("debootstrap") is not None,
        "is_root": os.geteuid() == 0,
        "impaired_labs": _impaired_labs(),
        **_engine_facts(),
    }
    if found.get("engine_error") is None:
        root = roots.local(images.packages())
        found.update(root_local=root.ref if root else None, **_registry(), **_nfqueue())
        disk = Path(str(found.get("disk_path") or ""))
        if disk.is_dir() and not found["docker_host"]:
            found["free_gb"] = shutil.disk_usage(disk).free / 1e9
    return Facts(**found)  # type: ignore[arg-type]


def to_json(facts: Facts, findings: list[Finding]) -> dict[str, object]:
    """What ``socklab doctor --json`` prints: the verdict, each finding (``what`` is its
    stable English name, whatever the language) and the facts it was decided from."""
    return {
        "ok": all(f.ok or not f.needed for f in findings),
        "findings": [dataclasses.asdict(f) for f in findings],
        "facts": dataclasses.asdict(facts),
    }
