"""The ``delay`` benchmark: the engine's delay precision measured apart from the engine.

tcpdump on ``any`` in the router's network namespace sees each forwarded datagram twice,
as it came in on the client's side and as it went out on the server's, stamped by one
clock. ``(out - in) - configured`` is then the error on the wire, whatever the engine
believes of itself (its own account is ``late_ms`` in its statistics). The judging is
pure (``errors``, ``figures``); only ``measure`` runs containers.
"""

from __future__ import annotations

import contextlib
import math
import struct
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from socklab import compose, impairing, runner
from socklab import lab as labs
from socklab.checking import pcap

PORT = 9002
DELAY_MS = 5.0
RATES = (1000, 5000)  # datagrams per second, each for SECONDS
SECONDS = 3.0
GOAL_MS = 1.0  # p99 |error| at 1,000 packets/s on a quiet machine


def errors(data: bytes, configured_ms: float, port: int = PORT) -> tuple[list[float], int]:
    """``(out - in) - configured`` in ms for each UDP datagram to ``port`` that the capture
    saw both ways (matched by source, IP id and the probe's sequence number), and how many
    came in but never went out."""
    seen_in: dict[tuple[str, int, bytes], float] = {}
    seen_out: dict[tuple[str, int, bytes], float] = {}
    for p in pcap.ipv4(data):
        body = p.body
        if p.protocol != pcap.UDP or len(body) < 12 or struct.unpack_from("!H", body, 2)[0] != port:
            continue
        key = (p.src, p.ident, body[8:12])
        (seen_out if p.outgoing else seen_in).setdefault(key, p.t)
    out = [(seen_out[k] - t) * 1000 - configured_ms for k, t in seen_in.items() if k in seen_out]
    return out, sum(k not in seen_out for k in seen_in)


def quantile(values: list[float], q: float) -> float:
    """The q-quantile (nearest rank) of ``values``."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def figures(errs: list[float], lost: int, rate: int) -> list[tuple[str, float, str, str]]:
    """(name, value, unit, how) of one rate's errors."""
    if not errs:
        raise SystemExit(f"the capture at {rate} packets/s saw no datagram both ways")
    size = [abs(e) for e in errs]
    how = (
        f"tcpdump on the router's two interfaces (one clock): (out - in) - {DELAY_MS:g} ms "
        f"for {len(errs)} UDP datagrams at {rate} packets/s for {SECONDS:g} s through a "
        f"fixed {DELAY_MS:g} ms delay; {lost} went in and not out"
    )
    return [
        (
            f"delay error on the wire, p50 |error| at {rate} packets/s",
            round(quantile(size, 0.5), 3),
            "ms",
            how,
        ),
        (
            f"delay error on the wire, p99 |error| at {rate} packets/s",
            round(quantile(size, 0.99), 3),
            "ms",
            how + f"; goal at 1000/s: at most {GOAL_MS:g} ms",
        ),
        (f"delay error on the wire, max |error| at {rate} packets/s", round(max(size), 3), "ms", how),
        (
            f"delay error on the wire, mean (signed) at {rate} packets/s",
            round(sum(errs) / len(errs), 3),
            "ms",
            how + "; above 0: late on average",
        ),
    ]


@contextlib.contextmanager
def capture(router: str, port: int) -> Iterator[bytearray]:
    """tcpdump on every interface of ``router`` for UDP ``port`` while the block runs."""
    script = (
        "echo $$ >&2; exec tcpdump -i any -y LINUX_SLL2 -n -s 96 -B 16384 -U "
        '--immediate-mode -Z tcpdump -w - "$@"'
    )
    proc = subprocess.Popen(
        ["docker", "exec", router, "sh", "-c", script, "sh", "udp", "dst", "port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout and proc.stderr
    pid = proc.stderr.readline().decode().strip()
    while (line := proc.stderr.readline().decode()) and "listening on" not in line:
        pass
    data = bytearray()
    reader = threading.Thread(
        target=lambda: data.extend(proc.stdout.read()),  # type: ignore[union-attr]
        daemon=True,
    )
    reader.start()
    try:
        yield data
    finally:
        # tcpdump runs as its own user: the router's root has no CAP_KILL to signal it
        subprocess.run(
            ["docker", "exec", "-u", "tcpdump", router, "kill", "-INT", pid], check=False, capture_output=True
        )
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise SystemExit("tcpdump on the router did not stop") from None
        reader.join(timeout=30)


def measure(rates: tuple[int, ...] = RATES) -> dict[int, tuple[list[float], int]]:
    """Errors and losses at each rate, through a topology of its own."""
    code = labs.find("1").solution
    out = {}
    with tempfile.TemporaryDirectory(prefix="socklab-bench-") as tmp:
        Path(tmp).chmod(0o777)
        impairment = compose.Impairment("clean", 1, Path(tmp))
        with runner.topology(code, compose.new_project("socklab-bench"), impairment) as topo:
            link = impairing.Link(topo.container("impair"), Path(tmp))
            link.set(config={"c2s": {"delay_ms": DELAY_MS}})
            for rate in rates:
                with capture(topo.container("router"), PORT) as data:
                    subprocess.run(
                        [
                            "docker",
                            "exec",
                            topo.container("client"),
                            "python3",
                            "/socklab/probe.py",
                            "udp-send",
                            "--host",
                            "server",
                            "--port",
                            str(PORT),
                            "--count",
                            str(int(rate * SECONDS)),
                            "--interval-ms",
                            str(1000 / rate),
                        ],
                        capture_output=True,
                        check=True,
                    )
                    impairing.request(topo.container("impair"), "stats")  # the last ones out
                out[rate] = errors(bytes(data), DELAY_MS)
    return out


def suite() -> list[tuple[str, float, str, str]]:
    return [f for rate, (errs, lost) in measure().items() for f in figures(errs, lost, rate)]
