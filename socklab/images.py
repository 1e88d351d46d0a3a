"""Build socklab's container images, cached by the hash of what goes into them.

Every image is built from a Dockerfile ``FROM`` its parent; the base image ``FROM`` a
Debian root that ``roots`` pulls (pinned by digest) or, offline, builds with debootstrap.
Image names start with $SOCKLAB_IMAGE_PREFIX (``socklab-``), so tests can build their own.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import os
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import docker.errors

from socklab import engine, roots
from socklab.errors import PlatformError
from socklab.i18n import _
from socklab.lab import Lab

ROOT = Path(__file__).resolve().parent.parent
HASH_LABEL = "socklab.hash"
# Images carry their own label, not the `socklab` resource label: a container made from
# an image inherits the image's labels, and `socklab clean` must not claim other people's.
IMAGE_LABEL = "socklab.image"
FORMAT = "3"  # bump to rebuild every image when how they are built changes


def lock_path() -> Path:
    """The build lock: one per user (a shared /tmp must not make a second user's fail)."""
    folder = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    return Path(folder) / f"socklab-images-{os.getuid()}.lock"


@dataclass(frozen=True)
class ImageSpec:
    """One image: its name, its parent (None: the base, built FROM the Debian root), and
    the files of its build context."""

    name: str
    parent: str | None
    context: tuple[tuple[str, str], ...]  # (path in context, path in repository)

    @property
    def tag(self) -> str:
        return f"{roots.prefix()}{self.name}:latest"


BASE_PACKAGES = ("packages.txt", "images/base/packages.txt")
HOST_CONTEXT = (
    ("Dockerfile", "images/host/Dockerfile"),
    ("socklab-net-init", "images/host/socklab-net-init"),
)
SPECS = (
    ImageSpec("base", None, (("Dockerfile", "images/base/Dockerfile"), BASE_PACKAGES)),
    ImageSpec("host", "base", HOST_CONTEXT),
    ImageSpec(
        "router",
        "base",
        (("Dockerfile", "images/router/Dockerfile"), ("socklab-router", "images/router/socklab-router")),
    ),
    ImageSpec(
        "impair",
        "base",
        (
            ("Dockerfile", "images/impair/Dockerfile"),
            ("socklab/__init__.py", "socklab/__init__.py"),
            ("socklab/impair", "socklab/impair"),
        ),
    ),
    # a lab host with a real browser (Chromium, driven through Selenium) and curl: lab 7
    ImageSpec(
        "browser-base",
        "base",
        (("Dockerfile", "images/browser/Dockerfile"), ("packages.txt", "images/browser/packages.txt")),
    ),
    ImageSpec("browser", "browser-base", HOST_CONTEXT),
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


def content_hash(spec: ImageSpec, root: str) -> str:
    """A hash of everything that goes into the image: its files, its parent's hash, and
    for the base the Debian root it is built on (a pinned digest, or the offline root)."""
    digest = hashlib.sha256(f"{FORMAT} {roots.SUITE}".encode())
    digest.update((content_hash(BY_NAME[spec.parent], root) if spec.parent else root).encode())
    for arc, path in _files(spec):
        digest.update(arc.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def current_hash(tag: str) -> str | None:
    """The hash label of an existing image, or None when there is no such image."""
    try:
        image = engine.client().images.get(tag)
    except docker.errors.ImageNotFound:
        return None
    return (image.labels or {}).get(HASH_LABEL)


def packages() -> list[str]:
    """The Debian packages of the base image, as images/base/packages.txt lists them."""
    lines = (line.split("#")[0].strip() for line in (ROOT / BASE_PACKAGES[1]).read_text().splitlines())
    return [line for line in lines if line]


def _context_tar(spec: ImageSpec) -> io.BytesIO:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for arc, path in _files(spec):
            tar.add(path, arcname=arc)
    buf.seek(0)
    return buf


def _build(spec: ImageSpec, digest: str, base: str) -> None:
    api = engine.client().api
    output = []
    for chunk in api.build(
        fileobj=_context_tar(spec),
        custom_context=True,
        tag=spec.tag,
        labels={IMAGE_LABEL: spec.name, HASH_LABEL: digest},
        rm=True,
        forcerm=True,
        pull=False,
        decode=True,
        buildargs={"BASE": base},
    ):
        output.append(chunk.get("stream", "") + chunk.get("error", ""))
        if "error" in chunk:
            raise PlatformError(
                _("building {image} failed:").format(image=spec.tag)
                + "\n"
                + "".join(output)[-2000:]
                + "\n"
                + _("(`socklab doctor` says what this machine can build)")
            )


def build_order(names: tuple[str, ...]) -> list[ImageSpec]:
    """The named images and their parents, parents first, each once."""
    order: list[ImageSpec] = []
    for name in names:
        chain = []
        spec: ImageSpec | None = BY_NAME[name]
        while spec is not None:
            chain.append(spec)
            spec = BY_NAME[spec.parent] if spec.parent else None
        order.extend(s for s in reversed(chain) if s not in order)
    return order


def ensure(
    names: tuple[str, ...] = ALL, *, force: bool = False, log: Callable[[str], None] = lambda _msg: None
) -> dict[str, float]:
    """Build the named images (and their parents) that are missing or stale.

    Returns the seconds each build took; an empty dict means everything was cached.
    Looks for the Debian root on the network (a pull, else debootstrap) only when
    something must be built.
    """
    built: dict[str, float] = {}
    order = build_order(names)
    root = roots.local(packages())
    if root and not force and all(current_hash(s.tag) == content_hash(s, root.ref) for s in order):
        return built
    lock = lock_path()
    with lock.open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # parallel runs: one builds, the others wait for it
        root = roots.obtain(packages(), log)
        for spec in order:
            digest = content_hash(spec, root.ref)
            if current_hash(spec.tag) == digest and not force:
                continue
            log(
                _("building image {image} (from {root})").format(image=spec.tag, root=root.ref)
                if spec.parent is None
                else _("building image {image}").format(image=spec.tag)
            )
            start = time.monotonic()
            previous = _image_id(spec.tag)
            _build(spec, digest, BY_NAME[spec.parent].tag if spec.parent else root.ref)
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
    if _labelled(roots.debootstrap_tag()):
        engine.client().images.remove(roots.debootstrap_tag(), force=True)
        removed.append(roots.debootstrap_tag())
    return removed


def _labelled(tag: str) -> bool:
    try:
        return IMAGE_LABEL in (engine.client().images.get(tag).labels or {})
    except docker.errors.ImageNotFound:
        return False
