"""Build socklab's container images, cached by the hash of what goes into them.

No image is pulled: the base is built from Debian packages (debootstrap + import),
and every other image is built ``FROM`` it with ``COPY`` only, needing no network.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import docker.errors

from socklab import engine
from socklab.errors import PlatformError
from socklab.i18n import _
from socklab.lab import Lab

ROOT = Path(__file__).resolve().parent.parent
SUITE = "bookworm"
HASH_LABEL = "socklab.hash"
# Images carry their own label, not the `socklab` resource label: a container made from
# an image inherits the image's labels, and `socklab clean` must not claim other people's.
IMAGE_LABEL = "socklab.image"
FORMAT = "2"  # bump to rebuild every image when how they are built changes
LOCK = Path(os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()) / "socklab-images.lock"


@dataclass(frozen=True)
class ImageSpec:
    """One image: its tag, its parent, and the files of its build context."""

    name: str
    parent: str | None  # None: a root built by debootstrap from the context's package lists
    context: tuple[tuple[str, str], ...]  # (path in context, path in repository)
    args: tuple[tuple[str, str], ...] = ()  # Dockerfile build arguments

    @property
    def tag(self) -> str:
        return f"socklab-{self.name}:latest"


BASE_PACKAGES = ("packages.txt", "images/base/packages.txt")
HOST_CONTEXT = (("Dockerfile", "images/host/Dockerfile"),
                ("socklab-net-init", "images/host/socklab-net-init"))
SPECS = (
    ImageSpec("base", None, (BASE_PACKAGES,)),
    ImageSpec("host", "base", HOST_CONTEXT),
    ImageSpec("router", "base", (("Dockerfile", "images/router/Dockerfile"),
                                 ("socklab-router", "images/router/socklab-router"))),
    ImageSpec("impair", "base", (("Dockerfile", "images/impair/Dockerfile"),
                                 ("socklab/__init__.py", "socklab/__init__.py"),
                                 ("socklab/impair", "socklab/impair"))),
    # a lab host with a real browser (Chromium, driven through Selenium) and curl: lab 7
    ImageSpec("browser-base", None, (BASE_PACKAGES,
                                     ("browser-packages.txt", "images/browser/packages.txt"))),
    ImageSpec("browser", "browser-base", HOST_CONTEXT, (("BASE", "socklab-browser-base:latest"),)),
)
ALL = ("host", "router", "impair")  # what every lab needs; a lab.toml [hosts] table may add more
EVERY = (*ALL, "browser")
BY_NAME = {spec.name: spec for spec in SPECS}


def for_lab(lab: Lab) -> tuple[str, ...]:
    """The images a lab's run needs: every lab's, and those its hosts ask for."""
    return ALL + tuple(sorted(set(lab.images.values()) - set(ALL)))


def _files(spec: ImageSpec) -> list[tuple[str, Path]]:
    """Every file of the build context, sorted, expanding folders."""
    found = []
    for arc, rel in spec.context:
        src = ROOT / rel
        if src.is_dir():
            for path in sorted(src.rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts:
                    found.append((f"{arc}/{path.relative_to(src)}", path))
        else:
            found.append((arc, src))
    return sorted(found)


def content_hash(spec: ImageSpec) -> str:
    """A hash of everything that goes into the image, its parent's included."""
    digest = hashlib.sha256(f"{FORMAT} {SUITE}".encode())
    if spec.parent:
        digest.update(content_hash(BY_NAME[spec.parent]).encode())
    for arc, path in _files(spec):
        digest.update(arc.encode() + b"\0" + path.read_bytes() + b"\0")
    for key, value in spec.args:
        digest.update(f"{key}={value}\0".encode())
    return digest.hexdigest()[:16]


def current_hash(tag: str) -> str | None:
    """The hash label of an existing image, or None when there is no such image."""
    try:
        image = engine.client().images.get(tag)
    except docker.errors.ImageNotFound:
        return None
    return (image.labels or {}).get(HASH_LABEL)


def packages(spec: ImageSpec) -> list[str]:
    """The Debian packages of a root image: every package list of its context, in order."""
    found: list[str] = []
    for arc, rel in spec.context:
        if arc.endswith("packages.txt"):
            lines = (line.split("#")[0].strip() for line in (ROOT / rel).read_text().splitlines())
            found += [line for line in lines if line and line not in found]
    return found


def mirrors_in(text: str) -> list[str]:
    """The Debian archive URLs in an apt sources file (one-line or deb822 format)."""
    found = []
    for match in re.finditer(r"(?:^deb\s+(?:\[[^]]*\]\s+)?|^URIs:\s*)(\S+)", text, re.M):
        uri = match.group(1).rstrip("/")
        if uri.startswith("http") and uri.endswith("/debian"):
            found.append(uri)
    return found


def debian_mirror(apt: Path = Path("/etc/apt")) -> str:
    """The Debian mirror: $SOCKLAB_DEBIAN_MIRROR, else the first one this host's apt uses."""
    if mirror := os.environ.get("SOCKLAB_DEBIAN_MIRROR"):
        return mirror
    for path in [apt / "sources.list", *sorted((apt / "sources.list.d").glob("*"))]:
        if path.suffix not in (".list", ".sources") or not path.is_file():
            continue
        if found := mirrors_in(path.read_text()):
            return found[0]
    raise PlatformError(
        _("no Debian mirror found in /etc/apt: set SOCKLAB_DEBIAN_MIRROR to a Debian archive URL")
    )


def _build_base(spec: ImageSpec, digest: str, log: Callable[[str], None]) -> None:
    if shutil.which("debootstrap") is None:
        raise PlatformError(_("building the base image needs debootstrap: apt-get install debootstrap"))
    if os.geteuid() != 0:
        raise PlatformError(_("building the base image with debootstrap needs root: sudo make images"))
    mirror = debian_mirror()
    with tempfile.TemporaryDirectory(prefix="socklab-rootfs-", dir="/var/tmp") as tmp:
        rootfs = Path(tmp) / "rootfs"
        log(f"debootstrap {SUITE} from {mirror} ({len(packages(spec))} packages)")
        engine.run(["debootstrap", "--variant=minbase", f"--include={','.join(packages(spec))}",
                    SUITE, str(rootfs), mirror], timeout=1800)
        for junk in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for path in (rootfs / junk).glob("*"):
                if path.is_file():
                    path.unlink()
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        try:
            engine.client().api.import_image_from_stream(
                tar.stdout, repository=spec.tag.split(":")[0], tag="latest",
                changes=[f"LABEL {IMAGE_LABEL}={spec.name} {HASH_LABEL}={digest}",
                         'CMD ["/bin/sh"]'],
            )
        finally:
            if tar.stdout is not None:
                tar.stdout.close()
            tar.wait()
        if tar.returncode != 0:
            raise PlatformError(f"tar of the base rootfs failed with exit code {tar.returncode}")


def _context_tar(spec: ImageSpec) -> io.BytesIO:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for arc, path in _files(spec):
            tar.add(path, arcname=arc)
    buf.seek(0)
    return buf


def _build_from_dockerfile(spec: ImageSpec, digest: str) -> None:
    api = engine.client().api
    output = []
    for chunk in api.build(fileobj=_context_tar(spec), custom_context=True, tag=spec.tag,
                           labels={IMAGE_LABEL: spec.name, HASH_LABEL: digest}, rm=True,
                           forcerm=True, pull=False, decode=True, buildargs=dict(spec.args)):
        output.append(chunk.get("stream", "") + chunk.get("error", ""))
        if "error" in chunk:
            raise PlatformError(_("building {image} failed:").format(image=spec.tag) + "\n"
                                + "".join(output)[-2000:])


def ensure(names: tuple[str, ...] = ALL, *, force: bool = False,
           log: Callable[[str], None] = lambda _msg: None) -> dict[str, float]:
    """Build the named images (and their parents) that are missing or stale.

    Returns the seconds each build took; an empty dict means everything was cached.
    """
    built: dict[str, float] = {}
    order: list[ImageSpec] = []
    for name in names:
        chain = []
        spec: ImageSpec | None = BY_NAME[name]
        while spec is not None:
            chain.append(spec)
            spec = BY_NAME[spec.parent] if spec.parent else None
        order.extend(s for s in reversed(chain) if s not in order)
    stale = [s for s in order if force or current_hash(s.tag) != content_hash(s)]
    if not stale:
        return built
    with LOCK.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # parallel runs: one builds, the others wait for it
        for spec in order:
            digest = content_hash(spec)
            if current_hash(spec.tag) == digest and not (force and spec in stale):
                continue
            log(f"building image {spec.tag}")
            start = time.monotonic()
            previous = _image_id(spec.tag)
            if spec.parent is None:
                _build_base(spec, digest, log)
            else:
                _build_from_dockerfile(spec, digest)
            built[spec.name] = time.monotonic() - start
            _remove_replaced(previous)
    return built


def _image_id(tag: str) -> str | None:
    try:
        return engine.client().images.get(tag).id
    except docker.errors.ImageNotFound:
        return None


def _remove_replaced(image_id: str | None) -> None:
    """Remove the image a rebuild replaced, unless a container still uses it."""
    if image_id is None:
        return
    # still used by a running lab (or already gone): a later rebuild or clean-images will do
    with contextlib.suppress(docker.errors.APIError):
        engine.client().images.remove(image_id)


def remove() -> list[str]:
    """Remove socklab's images (children first); images without our label are left alone."""
    removed = []
    for spec in reversed(SPECS):
        if current_hash(spec.tag) is None and not _labelled(spec.tag):
            continue
        engine.client().images.remove(spec.tag, force=True)
        removed.append(spec.tag)
    return removed


def _labelled(tag: str) -> bool:
    try:
        return IMAGE_LABEL in (engine.client().images.get(tag).labels or {})
    except docker.errors.ImageNotFound:
        return False
