"""Which Debian root socklab's images are built ``FROM``: pulled first, built only offline.

The root is a pinned Debian image (``debian:bookworm-slim`` unless ``SOCKLAB_BASE_IMAGE``
names another), pinned by the digest the registry gives. Only where no registry answers
is a root built from Debian packages with debootstrap and imported (that needs root and
debootstrap; ``SOCKLAB_DEBIAN_MIRROR`` picks the mirror).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import docker.errors

from socklab import engine
from socklab.errors import PlatformError
from socklab.i18n import _

DEFAULT = "debian:bookworm-slim"
SUITE = "bookworm"
ROOT_LABEL = "socklab.root"  # on the debootstrap root: the packages it was built with


def reference() -> str:
    """The image to pull: $SOCKLAB_BASE_IMAGE, else debian:bookworm-slim."""
    return os.environ.get("SOCKLAB_BASE_IMAGE") or DEFAULT


def prefix() -> str:
    """What socklab's image names start with: $SOCKLAB_IMAGE_PREFIX, else ``socklab-``."""
    return os.environ.get("SOCKLAB_IMAGE_PREFIX") or "socklab-"


@dataclass(frozen=True)
class Root:
    """What the base image is built ``FROM``, and how it came here."""

    ref: str  # a repository@digest, a tag, or the imported debootstrap root's tag
    source: str  # "registry" or "debootstrap"


def repository(ref: str) -> str:
    """A reference's repository: ``127.0.0.1:5000/debian:x`` -> ``127.0.0.1:5000/debian``."""
    name = ref.split("@")[0]
    last = name.rsplit("/", 1)[-1]
    return name[: len(name) - len(last)] + last.split(":")[0]


def pinned(ref: str, repo_digests: list[str]) -> str:
    """``ref`` pinned by the digest its registry gave (RepoDigests), or ``ref`` itself."""
    if "@" in ref:
        return ref
    repo = repository(ref)
    bare = {repo, f"docker.io/{repo}", f"docker.io/library/{repo}"}
    for item in repo_digests:
        if repository(item) in bare or f"library/{repository(item)}" in bare:
            return f"{repo}@{item.split('@', 1)[1]}"
    return ref


def debootstrap_tag() -> str:
    return f"{prefix()}debian-root:{SUITE}"


def local(packages: list[str]) -> Root | None:
    """The root already on this engine (no network), or None when there is none yet."""
    api = engine.client()
    ref = reference()
    try:
        image = api.images.get(ref)
        return Root(pinned(ref, image.attrs.get("RepoDigests") or []), "registry")
    except docker.errors.ImageNotFound:
        pass
    try:
        image = api.images.get(debootstrap_tag())
    except docker.errors.ImageNotFound:
        return None
    if (image.labels or {}).get(ROOT_LABEL) != ",".join(packages):
        return None
    return Root(debootstrap_tag(), "debootstrap")


def pull(log: Callable[[str], None]) -> Root | None:
    """Pull the reference; None when no registry answers (or it has no such image)."""
    ref = reference()
    log(_("pulling {image}").format(image=ref))
    try:
        image = engine.client().images.pull(ref)  # no tag in ref: docker's own default, latest
    except docker.errors.APIError as exc:
        log(
            _("could not pull {image} ({error}): building a root from Debian packages").format(
                image=ref, error=str(exc).strip()[:200]
            )
        )
        return None
    return Root(pinned(ref, image.attrs.get("RepoDigests") or []), "registry")


def obtain(packages: list[str], log: Callable[[str], None]) -> Root:
    """The root to build on: what is here, else pulled, else built with debootstrap."""
    return local(packages) or pull(log) or build(packages, log)


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
        _(
            "no registry gave {image} and no Debian mirror is in /etc/apt: set "
            "SOCKLAB_BASE_IMAGE to an image you can pull, or SOCKLAB_DEBIAN_MIRROR to a Debian "
            "archive URL (see `socklab doctor`)"
        ).format(image=reference())
    )


def build(packages: list[str], log: Callable[[str], None]) -> Root:
    """A root from Debian packages (debootstrap), imported as an image: the offline path."""
    if shutil.which("debootstrap") is None:
        raise PlatformError(
            _(
                "no registry gave {image}, and building a root offline needs "
                "debootstrap (apt-get install debootstrap); see `socklab doctor`"
            ).format(image=reference())
        )
    if os.geteuid() != 0:
        raise PlatformError(
            _(
                "no registry gave {image}, and building a root offline with "
                "debootstrap needs root: sudo make images; see `socklab doctor`"
            ).format(image=reference())
        )
    mirror = debian_mirror()
    with tempfile.TemporaryDirectory(prefix="socklab-rootfs-", dir="/var/tmp") as tmp:
        rootfs = Path(tmp) / "rootfs"
        log(
            _("debootstrap {suite} from {mirror} ({count} packages)").format(
                suite=SUITE, mirror=mirror, count=len(packages)
            )
        )
        engine.run(
            [
                "debootstrap",
                "--variant=minbase",
                f"--include={','.join(packages)}",
                SUITE,
                str(rootfs),
                mirror,
            ],
            timeout=1800,
        )
        for junk in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for path in (rootfs / junk).glob("*"):
                if path.is_file():
                    path.unlink()
        _import(rootfs, packages)
    return Root(debootstrap_tag(), "debootstrap")


def _import(rootfs: Path, packages: list[str]) -> None:
    repo, tag = debootstrap_tag().split(":")
    tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
    try:
        engine.client().api.import_image_from_stream(
            tar.stdout,
            repository=repo,
            tag=tag,
            changes=[f"LABEL {ROOT_LABEL}={','.join(packages)} socklab.image=debian-root", 'CMD ["/bin/sh"]'],
        )
    finally:
        if tar.stdout is not None:
            tar.stdout.close()
        tar.wait()
    if tar.returncode != 0:
        raise PlatformError(
            _("tar of the root filesystem failed with exit code {code}").format(code=tar.returncode)
        )
