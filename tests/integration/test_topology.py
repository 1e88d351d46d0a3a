"""The topology is what docker-compose.yml promises: routed through the router, named,
sealed off from the outside (proved by routes, never by sending a packet out), and
sandboxed for student code."""

from __future__ import annotations

import socket
import subprocess

import pytest
import testinfra

from socklab import compose, engine
from socklab import lab as labs
from socklab.checking import observe
from socklab.runner import topology

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("built_images")]
OUTSIDE = "192.0.2.1"  # TEST-NET-1: only ever asked about with `ip route get`, never sent to


@pytest.fixture(scope="module")
def topo():
    with topology(labs.find("1").solution, compose.new_project("socklab-test")) as t:
        yield t


def host(topo, service):
    return testinfra.get_host(f"docker://root@{topo.container(service)}")


def forwarded(topo) -> int:
    """The router's count of forwarded IP datagrams (Ip: ForwDatagrams in /proc/net/snmp)."""
    snmp = host(topo, "router").file("/proc/net/snmp").content_string.splitlines()
    lines = [line.split() for line in snmp if line.startswith("Ip:")]
    return int(lines[1][lines[0].index("ForwDatagrams")])


def test_client_to_server_crosses_the_router(topo):
    before = forwarded(topo)
    out = host(topo, "client").run("ping -c 3 -W 2 server")
    assert out.rc == 0, out.stdout + out.stderr
    assert "ttl=63" in out.stdout  # one hop: the router decremented the TTL
    assert forwarded(topo) - before >= 6  # 3 requests + 3 replies went through it


@pytest.mark.parametrize("service", ["client", "server", "router"])
def test_names_resolve_inside(topo, service):
    addresses = topo.addresses()
    h = host(topo, service)
    assert h.run("getent hosts server").stdout.split()[0] == addresses["server"]
    assert h.run("getent hosts client").stdout.split()[0] == addresses["client"]


@pytest.mark.parametrize("service", ["client", "server", "router"])
def test_no_route_off_the_host(topo, service):
    h = host(topo, service)
    assert "default" not in h.check_output("ip route show")
    out = h.run("ip route get %s", OUTSIDE)
    assert out.rc != 0 and "unreachable" in out.stderr.lower(), out.stdout + out.stderr


def test_only_the_other_lab_subnet_is_routed(topo):
    routes = host(topo, "client").check_output("ip route show").splitlines()
    assert len(routes) == 2
    assert any(r.startswith(f"{topo.server_subnet} via {topo.addresses()['router_client']}") for r in routes)


@pytest.mark.parametrize("service", ["client", "server"])
def test_student_user_has_no_privileges(topo, service):
    out = subprocess.run(
        [
            "docker",
            "exec",
            "-u",
            "student",
            topo.container(service),
            "sh",
            "-c",
            "id -u; grep -E '^(CapEff|CapPrm|CapBnd|NoNewPrivs)' /proc/self/status;"
            "touch /lab/code/x 2>&1; touch /etc/x 2>&1; touch /scratch/ok && echo ok",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.startswith("1000\n")
    for cap in ("CapEff", "CapPrm", "CapBnd"):
        assert f"{cap}:\t0000000000000000" in out
    assert "NoNewPrivs:\t1" in out
    assert out.count("Read-only file system") == 2  # the code under test and the root fs
    assert out.endswith("ok\n")  # the one writable place: /scratch


def test_the_student_sees_no_probe_arguments(topo):
    """A check's probe runs beside the student's programs: they may see that it runs (ps),
    but not what it was told to send or to expect (its arguments are in root's environment)."""
    secret = "reply-only-the-checker-knows-8d1e"
    server = observe.Background(
        topo.container("server"), ["tcp-serve", "--port", "5999", "--reply", secret], 10
    )
    try:
        seen = subprocess.run(
            [
                "docker",
                "exec",
                "-u",
                "student",
                topo.container("server"),
                "sh",
                "-c",
                "ps -eo user:12,args; cat /proc/[0-9]*/environ 2>/dev/null | tr '\\0' '\\n'",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        server.proc.kill()
        server.proc.wait()
    assert "python3 /socklab/run.py probe.py" in seen, seen  # the probe was there to be seen
    assert secret not in seen and "5999" not in seen, seen


def test_limits_and_capabilities(topo):
    api = engine.client()
    for service in ("client", "server"):
        cfg = api.containers.get(topo.container(service)).attrs["HostConfig"]
        assert cfg["CapDrop"] == ["ALL"] and not cfg["CapAdd"]
        assert cfg["PidsLimit"] and cfg["Memory"] and cfg["NanoCpus"]
        assert cfg["ReadonlyRootfs"] and "no-new-privileges:true" in cfg["SecurityOpt"]
    router = api.containers.get(topo.container("router")).attrs["HostConfig"]
    assert sorted(router["CapAdd"]) == ["NET_ADMIN", "NET_RAW", "SETGID", "SETUID"]


def test_every_resource_is_labelled_with_its_run(topo):
    api = engine.client()
    selector = {"label": [f"{engine.RUN_LABEL}={topo.project}"]}
    containers = api.containers.list(all=True, filters=selector, ignore_removed=True)
    networks = api.networks.list(filters=selector)
    assert len(containers) == 5  # router, client, server and the two route sidecars
    assert len(networks) == 2
    everything = {c.name for c in api.containers.list(all=True)}
    ours = {c.name for c in containers}
    assert {n for n in everything if n.startswith(topo.project)} == ours


@pytest.mark.parametrize("service", ["client", "server"])
@pytest.mark.parametrize("gateway", ["client_gateway", "server_gateway"])
def test_the_docker_host_is_unreachable_from_student_code(topo, service, gateway):
    """A listener of this test on the host's bridge address (this machine) gets nothing."""
    address = topo.addresses()[gateway]
    with socket.create_server((address, 0)) as listener:
        listener.settimeout(0.1)
        port = listener.getsockname()[1]
        out = subprocess.run(
            [
                "docker",
                "exec",
                "-u",
                "student",
                topo.container(service),
                "python3",
                "-c",
                "import socket,sys\n"
                f"try: socket.create_connection(({address!r}, {port}), timeout=3)\n"
                "except OSError as e: sys.exit(f'refused: {e}')\n",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert out.returncode != 0 and "refused" in out.stderr, out.stderr
        with pytest.raises(TimeoutError):
            listener.accept()


@pytest.mark.parametrize("service", ["client", "server"])
def test_broadcast_and_multicast_reach_no_host_socket(topo, service):
    """A UDP listener of this test on every address of this machine gets nothing that
    student code sends to its own subnet's broadcast address, 255.255.255.255 or a
    link-local multicast group (never routed: the datagrams stay on the lab's bridges)."""
    subnet = topo.client_subnet if service == "client" else topo.server_subnet
    targets = [str(subnet.broadcast_address), "255.255.255.255", "224.0.0.1", "224.0.0.251"]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as listener:
        listener.bind(("0.0.0.0", 0))
        listener.settimeout(1.0)
        port = listener.getsockname()[1]
        out = subprocess.run(
            [
                "docker",
                "exec",
                "-u",
                "student",
                topo.container(service),
                "python3",
                "-c",
                "import socket\n"
                "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                "s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)\n"
                f"for target in {targets!r}:\n"
                "    for _ in range(3):\n"
                "        try: s.sendto(b'leak', (target, " + str(port) + "))\n"
                "        except OSError as e: print(target, e)\n",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert out.returncode == 0, out.stderr
        with pytest.raises(TimeoutError):
            data, sender = listener.recvfrom(100)
            pytest.fail(f"the host received {data!r} from {sender}")


@pytest.mark.parametrize("service", ["client", "server", "router"])
def test_no_ipv6(topo, service):
    h = host(topo, service)
    assert h.file("/proc/sys/net/ipv6/conf/all/disable_ipv6").content_string.strip() == "1"
    assert h.check_output("ip -6 addr show") == ""
