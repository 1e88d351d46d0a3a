"""Both ways socklab gets its images, for real, under a test prefix of their own.

The pull path: a real registry (Debian's ``docker-registry``, the CNCF distribution
registry) on 127.0.0.1, seeded with a Debian root; a non-root user in the ``docker``
group, with no debootstrap on PATH, runs lab 1 and lab 7 through the CLI to a pass.
The offline path: the registry does not answer, so the root is built with debootstrap.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from socklab import engine, images, roots

pytestmark = [pytest.mark.docker, pytest.mark.slow]
STUDENT = "socklab-student"
STUDENT_PATH = "/usr/local/bin:/usr/bin:/bin"  # no sbin: no debootstrap there
REGISTRY = Path("/usr/bin/docker-registry")
ROOT = Path(__file__).resolve().parents[2]
CERTS = ("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE")


def _reason() -> str | None:
    if os.geteuid() != 0:
        return "creating a student user and starting a registry needs root (CI runs as root)"
    if shutil.which("useradd") is None or shutil.which("runuser") is None:
        return "needs useradd and runuser to act as a student"
    if not REGISTRY.exists():
        return "needs Debian's docker-registry package: apt-get install docker-registry"
    return None


def free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return probe.getsockname()[1]


@pytest.fixture
def prefix(monkeypatch):
    """A prefix of this test's own: its images never replace anyone's; removed afterwards."""
    if reason := _reason():
        pytest.skip(reason)
    mine = f"{roots.prefix()}t{secrets.token_hex(3)}-"
    monkeypatch.setenv("SOCKLAB_IMAGE_PREFIX", mine)
    yield mine
    images.remove()  # the prefix is this test's: only its images go
    assert not [t for i in engine.client().images.list() for t in i.tags if t.startswith(mine)]


@pytest.fixture
def registry(tmp_path):
    """A registry on 127.0.0.1 holding a Debian root as debian:bookworm-slim."""
    if reason := _reason():
        pytest.skip(reason)
    images.ensure(images.ALL)  # the suite's own images (built_images): their root is the seed
    seed = (roots.local(images.packages()) or roots.Root(images.BY_NAME["base"].tag, "")).ref
    port = free_port()
    config = tmp_path / "registry.yml"
    config.write_text(
        f"version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {tmp_path}/store\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
    )
    proc = subprocess.Popen(
        [str(REGISTRY), "serve", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "registry.log").open("wb"),
    )
    try:
        _wait_answers(f"http://127.0.0.1:{port}/v2/", tmp_path / "registry.log")
        ref = f"127.0.0.1:{port}/debian:bookworm-slim"
        engine.client().images.get(seed).tag(ref)
        engine.run(["docker", "push", ref], timeout=300)
        engine.client().images.remove(ref)  # the student's engine must pull it
        yield ref
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        for image in engine.client().images.list(name=f"127.0.0.1:{port}/debian"):
            for tag in image.tags:  # only the registry's names: the image is also the seed
                if tag.startswith(f"127.0.0.1:{port}/"):
                    engine.client().images.remove(tag)


def _wait_answers(url: str, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the registry did not answer at {url}: {log.read_text()[-2000:]}")


def _student(home: Path) -> None:
    """A normal user in the docker group (created once per machine)."""
    if subprocess.run(["id", STUDENT], capture_output=True, check=False).returncode != 0:
        subprocess.run(["useradd", "--create-home", "--groups", "docker", STUDENT], check=True)
    else:
        subprocess.run(["usermod", "-aG", "docker", STUDENT], check=True)
    shutil.chown(home, STUDENT)


@pytest.fixture
def home():
    """The student's home: not under root's private pytest folder, which they cannot enter."""
    folder = Path(tempfile.mkdtemp(prefix="socklab-student-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def as_student(home: Path, *argv: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """``argv`` as the student would run it: their user, their PATH, nothing else of root's
    (but this machine's pip and certificate settings, which a student's machine has too)."""
    machine = {k: v for k, v in os.environ.items() if k.startswith("PIP_") or k in CERTS}
    clean = {
        **machine,
        "PATH": STUDENT_PATH,
        "HOME": str(home),
        "SOCKLAB_RUNS": str(home / "runs"),
        "COLUMNS": "250",
        **env,
    }  # wide: a pinned reference is longer than 80 columns
    command = ["runuser", "-u", STUDENT, "--", "env", "-i", *[f"{k}={v}" for k, v in clean.items()], *argv]
    return subprocess.run(command, capture_output=True, text=True, timeout=1500, check=False)


def test_pull_path_as_a_student_without_root_or_debootstrap(registry, prefix, home):
    _student(home)
    repo = home / "socklab"  # the student's own copy of the kit, their own .venv
    shutil.copytree(ROOT, repo, ignore=shutil.ignore_patterns(".venv", ".git", "runs", "__pycache__"))
    subprocess.run(["chown", "-R", STUDENT, str(home)], check=True)
    assert shutil.which("debootstrap", path=STUDENT_PATH) is None
    env = {"SOCKLAB_BASE_IMAGE": registry, "SOCKLAB_IMAGE_PREFIX": prefix}
    lab1 = as_student(home, "make", "-C", str(repo), "lab-1", env=env)
    assert lab1.returncode == 0, lab1.stdout[-3000:] + lab1.stderr[-3000:]
    assert f"pulling {registry}" in lab1.stdout and "debootstrap" not in lab1.stdout
    assert f"from {registry.rsplit(':', 1)[0]}@sha256:" in lab1.stdout  # pinned by its digest
    lab7 = as_student(home, "make", "-C", str(repo), "lab-7", env=env)
    assert lab7.returncode == 0, lab7.stdout[-3000:] + lab7.stderr[-3000:]
    assert f"building image {prefix}browser:latest" in lab7.stdout
    again = as_student(home, "make", "-C", str(repo), "images", env=env)  # all there, cached
    assert again.returncode == 0 and "up to date" in again.stdout, again.stdout + again.stderr
    doctor = as_student(home, "make", "-C", str(repo), "doctor", env=env)
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert f"pull: a registry gives {registry}" in doctor.stdout, doctor.stdout


def test_offline_path_builds_the_root_with_debootstrap(prefix, tmp_path, monkeypatch):
    if shutil.which("debootstrap") is None:
        pytest.skip("the offline path needs debootstrap: apt-get install debootstrap")
    nowhere = f"127.0.0.1:{free_port()}/debian:bookworm-slim"  # no registry listens there
    monkeypatch.setenv("SOCKLAB_BASE_IMAGE", nowhere)
    run = subprocess.run(
        [sys.executable, "-m", "socklab.cli", "run", "1"],
        capture_output=True,
        text=True,
        timeout=1500,
        check=False,
        env={**os.environ, "SOCKLAB_RUNS": str(tmp_path)},
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert f"could not pull {nowhere}" in run.stdout and "debootstrap bookworm" in run.stdout
    assert roots.local(images.packages()) == roots.Root(roots.debootstrap_tag(), "debootstrap")
