"""The impairment engine in real containers: what it decides is what the receivers see.

One topology with the engine (started with the `clean` profile); each test sets the link
through the control socket, sends real traffic from client to server through the router,
and compares what arrived with the engine's own per-packet log and with theory.
"""

from __future__ import annotations

import math
import re
import statistics
import subprocess

import pytest

from socklab import compose, engine, impairing
from socklab import lab as labs
from socklab.checking import observe
from socklab.errors import PlatformError
from socklab.runner import topology

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("built_images")]
PORT = 7000


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    artifacts = tmp_path_factory.mktemp("impair")
    artifacts.chmod(0o777)
    impairment = compose.Impairment("clean", 11, artifacts)
    code = labs.find("1").solution  # its echo server, for the TCP tests
    with topology(code, compose.new_project("socklab-imptest"), impairment) as topo:
        subprocess.run(
            [
                "docker",
                "exec",
                "-d",
                "-u",
                "student",
                "-w",
                "/lab/code",
                topo.container("server"),
                "python3",
                "server.py",
                "5000",
            ],
            check=True,
        )
        yield topo, impairing.Link(topo.container("impair"), artifacts)


def udp_through(topo, link, count: int, config: dict, *, seed: int = 11):
    """Set the link, send ``count`` datagrams client→server; (what arrived, the decisions)."""
    version = link.set(config=config, seed=seed)
    sink = observe.udp_sink(topo.container("server"), PORT, idle=1.5, timeout=20)
    observe.udp_send(topo.container("client"), "server", PORT, count, interval_ms=0.5)
    seen = sink.result()
    decisions = [e["decision"] for e in link.events(version) if e["proto"] == "udp" and e["dport"] == PORT]
    return seen, decisions


def within(k: int, n: int, p: float, z: float = 2.576) -> bool:
    """k of n inside the 99% normal-approximation interval around n·p."""
    return abs(k - n * p) <= z * math.sqrt(n * p * (1 - p))


def ping(topo, count: int = 15) -> list[float]:
    out = subprocess.run(
        ["docker", "exec", topo.container("client"), "ping", "-c", str(count), "-i", "0.2", "server"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rtts = sorted(float(t) for t in re.findall(r"time=([\d.]+) ms", out))
    assert len(rtts) == count, out
    return rtts


def test_delay_shows_in_the_round_trip(net):
    topo, link = net
    link.set(config={})
    base = ping(topo)
    link.set(config={"c2s": {"delay_ms": 40}, "s2c": {"delay_ms": 40}})
    delayed = ping(topo)
    # RTT = base + 2 × 40 ms: never less; the median close to it (against a baseline taken
    # just before, so that a busy machine's scheduling delays count on both sides)
    assert delayed[0] >= 80, delayed
    assert 75 <= statistics.median(delayed) - statistics.median(base) <= 95, (base, delayed)


def test_loss_is_what_the_engine_logged_and_what_was_asked(net):
    seen, decisions = udp_through(*net, 1000, {"c2s": {"loss": 0.3}})
    dropped = sum(d.startswith("drop") for d in decisions)
    assert len(decisions) == 1000
    assert seen["received"] == 1000 - dropped  # every logged drop, and only those, was lost
    assert within(dropped, 1000, 0.3)


def test_undetected_corruption_reaches_the_application(net):
    seen, decisions = udp_through(*net, 500, {"c2s": {"corrupt": 0.2, "corrupt_mode": "undetected"}})
    corrupted = sum("corrupt" in d for d in decisions)
    assert seen["corrupted"] == corrupted and within(corrupted, 500, 0.2)
    assert seen["received"] == 500 - corrupted  # the sink sets damaged datagrams apart


def udp_checksum_errors(topo) -> int:
    snmp = subprocess.run(
        ["docker", "exec", topo.container("server"), "cat", "/proc/net/snmp"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    names, values = (line.split() for line in snmp if line.startswith("Udp:"))
    return int(values[names.index("InCsumErrors")])


def test_detected_corruption_is_dropped_by_the_receiving_kernel(net):
    topo, _ = net
    before = udp_checksum_errors(topo)
    seen, decisions = udp_through(*net, 500, {"c2s": {"corrupt": 0.2, "corrupt_mode": "detected"}})
    corrupted = sum("corrupt" in d for d in decisions)
    assert corrupted > 50
    assert udp_checksum_errors(topo) - before == corrupted
    assert seen["corrupted"] == 0 and seen["received"] == 500 - corrupted


def test_duplicates_arrive_as_logged(net):
    seen, decisions = udp_through(*net, 500, {"c2s": {"duplicate": 0.1}})
    duplicated = sum("duplicate" in d for d in decisions)
    assert seen["duplicates"] == duplicated and within(duplicated, 500, 0.1)


def test_the_same_seed_gives_the_same_decisions(net):
    config = {"c2s": {"loss": 0.2, "duplicate": 0.05, "delay_ms": 1, "jitter_ms": 0.5}}
    first = udp_through(*net, 300, config, seed=99)[1]
    second = udp_through(*net, 300, config, seed=99)[1]
    other = udp_through(*net, 300, config, seed=100)[1]
    strip = [re.sub(r"delay [\d.]+ ms", "delay", d) for d in first]
    assert strip == [re.sub(r"delay [\d.]+ ms", "delay", d) for d in second]
    assert first == second  # the delays drawn too
    assert first != other


def test_a_rate_limit_caps_throughput(net):
    topo, link = net
    link.set(config={"c2s": {"rate_kbit": 2000, "rate_queue": 1000}})
    seen = observe.tcp_echo(topo.container("client"), "server", 5000, "random:262144:3", timeout=30)
    assert seen["first_difference"] is None, seen
    mbit = 262144 * 8 / seen["elapsed"] / 1e6
    assert 1.5 < mbit <= 2.1, f"{mbit:.2f} Mbit/s through a 2 Mbit/s link"


def test_tcp_arrives_whole_through_loss_and_udp_does_not(net):
    topo, link = net
    config = {"c2s": {"loss": 0.1}, "s2c": {"loss": 0.1}}
    link.set(config=config, seed=5)
    seen = observe.tcp_echo(topo.container("client"), "server", 5000, "random:262144:4", timeout=60)
    assert seen["first_difference"] is None and seen["received"] == 262144, seen
    udp, decisions = udp_through(topo, link, 500, config, seed=5)
    assert udp["received"] == 500 - sum(d.startswith("drop") for d in decisions) < 500


def test_a_stopped_engine_is_a_platform_error(net):
    topo, link = net
    link.set(config={})
    impairing.check_health(topo.container("impair"))  # healthy: says nothing
    engine.client().containers.get(topo.container("impair")).kill()
    with pytest.raises(PlatformError, match="stopped during the checks"):
        impairing.check_health(topo.container("impair"))
