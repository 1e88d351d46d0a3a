"""Pure parts of the platform: subnets, Compose variables, image hashes and names, roots, apt mirrors."""

from __future__ import annotations

import ipaddress
import os
import re
from pathlib import Path

import pytest

from socklab import compose, images, roots
from socklab.errors import PlatformError


def test_subnet_pairs_are_disjoint_and_inside_the_pool():
    pairs = compose.subnet_pairs()
    nets = [n for pair in pairs for n in pair]
    assert len(nets) == len(set(nets)) == 512
    pool = ipaddress.ip_network(compose.POOL)
    assert all(n.subnet_of(pool) and n.prefixlen == 24 for n in nets)


def test_every_compose_variable_is_provided():
    topo = compose.Topology("socklab-x", *compose.subnet_pairs()[3])
    env = topo.env(Path("/code"))
    wanted = set(re.findall(r"\$\{(\w+)\}", compose.COMPOSE_FILE.read_text()))
    assert wanted <= set(env), f"docker-compose.yml uses {wanted - set(env)} that socklab never sets"
    assert env["SOCKLAB_CODE"] == "/code"


def test_addresses_sit_in_their_subnets():
    topo = compose.Topology("socklab-x", *compose.subnet_pairs()[0])
    a = {k: ipaddress.ip_address(v) for k, v in topo.addresses().items()}
    assert a["client"] in topo.client_subnet and a["router_client"] in topo.client_subnet
    assert a["server"] in topo.server_subnet and a["router_server"] in topo.server_subnet
    assert topo.container("client") == "socklab-x-client"


def test_projects_are_unique():
    assert len({compose.new_project() for _ in range(100)}) == 100


def test_image_hash_follows_its_inputs_its_parent_and_the_root(tmp_path, monkeypatch):
    (tmp_path / "images/base").mkdir(parents=True)
    (tmp_path / "images/host").mkdir(parents=True)
    (tmp_path / "images/base/Dockerfile").write_text("ARG BASE\nFROM ${BASE}\n")
    (tmp_path / "images/base/packages.txt").write_text("python3\n")
    (tmp_path / "images/host/Dockerfile").write_text("FROM socklab-base\n")
    (tmp_path / "images/host/socklab-net-init").write_text("#!/bin/sh\n")
    monkeypatch.setattr(images, "ROOT", tmp_path)
    host = images.BY_NAME["host"]
    first = images.content_hash(host, "debian@sha256:aa")
    assert images.content_hash(host, "debian@sha256:aa") == first  # stable
    assert images.content_hash(host, "debian@sha256:bb") != first  # another root rebuilds all
    (tmp_path / "images/base/packages.txt").write_text("python3\ncurl\n")
    assert images.content_hash(host, "debian@sha256:aa") != first  # so does a changed package list
    assert images.packages() == ["python3", "curl"]


def test_every_image_descends_from_the_base_and_takes_the_prefix(monkeypatch):
    for spec in images.SPECS:
        assert images.build_order((spec.name,))[0] == images.BY_NAME["base"]
    assert images.BY_NAME["browser"].context == images.BY_NAME["host"].context  # one Dockerfile
    assert images.BY_NAME["host"].tag == "socklab-host:latest"
    monkeypatch.setenv("SOCKLAB_IMAGE_PREFIX", "socklab-t1-")
    assert images.BY_NAME["browser"].tag == "socklab-t1-browser:latest"
    env = compose.Topology("p", *compose.subnet_pairs()[0], images=(("client", "browser"),)).env(Path("/c"))
    assert env["SOCKLAB_CLIENT_IMAGE"] == "socklab-t1-browser:latest"
    assert env["SOCKLAB_ROUTER_IMAGE"] == "socklab-t1-router:latest"


def test_the_build_lock_is_per_user():
    assert str(os.getuid()) in images.lock_path().name


@pytest.mark.parametrize(
    "ref,digests,expected",
    [
        ("debian:bookworm-slim", ["debian@sha256:ab"], "debian@sha256:ab"),
        (
            "127.0.0.1:5055/debian:bookworm-slim",
            ["127.0.0.1:5055/debian@sha256:cd"],
            "127.0.0.1:5055/debian@sha256:cd",
        ),
        ("debian:bookworm-slim", [], "debian:bookworm-slim"),  # a local image: no digest to pin
        ("debian@sha256:ef", ["debian@sha256:00"], "debian@sha256:ef"),  # pinned already
        ("debian:bookworm-slim", ["other/debian@sha256:ab"], "debian:bookworm-slim"),
    ],
)
def test_the_root_is_pinned_by_its_registry_digest(ref, digests, expected):
    assert roots.pinned(ref, digests) == expected


def test_the_root_reference_and_prefix_come_from_the_environment(monkeypatch):
    monkeypatch.delenv("SOCKLAB_BASE_IMAGE", raising=False)
    monkeypatch.delenv("SOCKLAB_IMAGE_PREFIX", raising=False)
    assert (roots.reference(), roots.prefix()) == ("debian:bookworm-slim", "socklab-")
    monkeypatch.setenv("SOCKLAB_BASE_IMAGE", "127.0.0.1:5055/debian:bookworm-slim")
    assert roots.reference() == "127.0.0.1:5055/debian:bookworm-slim"


ONE_LINE = "# comment\ndeb [arch=amd64] http://mirror.example/debian bookworm main\n"
DEB822 = (
    "Types: deb\nURIs: http://mirror.example/debian/\nSuites: bookworm\n\n"
    "Types: deb\nURIs: http://mirror.example/debian-security\n"
)


@pytest.mark.parametrize("text", [ONE_LINE, DEB822])
def test_mirror_is_read_from_apt_sources(text):
    assert roots.mirrors_in(text) == ["http://mirror.example/debian"]


def test_no_mirror_says_how_to_set_one(tmp_path, monkeypatch):
    monkeypatch.delenv("SOCKLAB_DEBIAN_MIRROR", raising=False)
    with pytest.raises(PlatformError, match="SOCKLAB_DEBIAN_MIRROR"):
        roots.debian_mirror(tmp_path)
    monkeypatch.setenv("SOCKLAB_DEBIAN_MIRROR", "http://m/debian")
    assert roots.debian_mirror(tmp_path) == "http://m/debian"
