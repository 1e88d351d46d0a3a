"""Pure parts of the platform: subnets, Compose variables, image hashes, apt mirrors."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

import pytest

from socklab import compose, images
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


def test_image_hash_follows_its_inputs_and_its_parent(tmp_path, monkeypatch):
    (tmp_path / "images/base").mkdir(parents=True)
    (tmp_path / "images/host").mkdir(parents=True)
    (tmp_path / "images/base/packages.txt").write_text("python3\n")
    (tmp_path / "images/host/Dockerfile").write_text("FROM socklab-base\n")
    (tmp_path / "images/host/socklab-net-init").write_text("#!/bin/sh\n")
    monkeypatch.setattr(images, "ROOT", tmp_path)
    host = images.BY_NAME["host"]
    first = images.content_hash(host)
    assert images.content_hash(host) == first  # stable
    (tmp_path / "images/base/packages.txt").write_text("python3\ncurl\n")
    assert images.content_hash(host) != first  # a changed package list rebuilds the children
    assert images.packages(images.BY_NAME["base"]) == ["python3", "curl"]


def test_browser_image_adds_its_packages_to_the_base_list(tmp_path, monkeypatch):
    (tmp_path / "images/base").mkdir(parents=True)
    (tmp_path / "images/browser").mkdir(parents=True)
    (tmp_path / "images/base/packages.txt").write_text("# base\npython3\ncurl\n")
    (tmp_path / "images/browser/packages.txt").write_text("chromium  # the browser\ncurl\n")
    monkeypatch.setattr(images, "ROOT", tmp_path)
    assert images.packages(images.BY_NAME["browser-base"]) == ["python3", "curl", "chromium"]
    browser, host = images.BY_NAME["browser"], images.BY_NAME["host"]
    assert browser.context == host.context  # one Dockerfile, built FROM another root
    assert dict(browser.args) == {"BASE": "socklab-browser-base:latest"}


ONE_LINE = "# comment\ndeb [arch=amd64] http://mirror.example/debian bookworm main\n"
DEB822 = "Types: deb\nURIs: http://mirror.example/debian/\nSuites: bookworm\n\n" \
         "Types: deb\nURIs: http://mirror.example/debian-security\n"


@pytest.mark.parametrize("text", [ONE_LINE, DEB822])
def test_mirror_is_read_from_apt_sources(text):
    assert images.mirrors_in(text) == ["http://mirror.example/debian"]


def test_no_mirror_says_how_to_set_one(tmp_path, monkeypatch):
    monkeypatch.delenv("SOCKLAB_DEBIAN_MIRROR", raising=False)
    with pytest.raises(PlatformError, match="SOCKLAB_DEBIAN_MIRROR"):
        images.debian_mirror(tmp_path)
    monkeypatch.setenv("SOCKLAB_DEBIAN_MIRROR", "http://m/debian")
    assert images.debian_mirror(tmp_path) == "http://m/debian"
