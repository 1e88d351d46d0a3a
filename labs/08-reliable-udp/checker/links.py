"""Lab 8's scripted links, built from the run's seed (no I/O here).

A script acts on the nth packets of a flow, counted by the router. A fixed period (every
8th packet) falls in phase with a legal retransmission pattern: a go-back-N sender whose
window is a multiple of 8 would put the same packet on the damaged slot forever. So every
schedule here is a seeded random set of packet counts, each drawn on its own with a given
share, and bounded: past ``limit`` packets nothing more is done, so a packet sent again
and again gets through in the end, whatever the sender's pattern.
"""

from __future__ import annotations

import random
from typing import Any

# a link's "description" goes to the impairment engine with its config: no report shows it
SLOW = {"description": "15 ms each way, nothing else", "c2s": {"delay_ms": 15},  # not shown
        "s2c": {"delay_ms": 15}}
ACKS_LOST = {"description": "1 ms each way; every packet from the receiver lost",  # not shown
             "c2s": {"delay_ms": 1}, "s2c": {"delay_ms": 1, "loss": 1.0}}
FIN_HOLD_MS = 600  # more than a timeout (0.5 s at most), less than the linger (1 s)


def scattered(rng: random.Random, share: float, limit: int) -> list[int]:
    """Packet counts from 1 to ``limit``, each taken with probability ``share`` (never none)."""
    counts = [n for n in range(1, limit + 1) if rng.random() < share]
    return counts or [rng.randint(1, limit)]


def _flip(name: str, direction: str, counts: list[int], byte: int | None) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": name, "direction": direction, "proto": "udp",
                             "packet": "data", "nth": counts, "action": "corrupt",
                             "corrupt_mode": "undetected"}
    if byte is not None:
        entry["byte"] = byte
    return entry


def damaging(seed: object, packets: int) -> dict[str, Any]:
    """About one data packet in 8 and one ACK in 8 damaged (a bit the UDP checksum cannot
    see), over the first ``2 * packets`` of each way: in a payload byte or in the number."""
    rng = random.Random(f"{seed}:damage")
    limit = 2 * packets
    return {
        "description": "1 ms each way; about 1 data packet in 8 and 1 ACK in 8 damaged "  # not shown
                       "(seeded, at random)",
        "c2s": {"delay_ms": 1}, "s2c": {"delay_ms": 1},
        "script": [
            _flip("damage-payload", "c2s", scattered(rng, 0.09, limit), None),
            _flip("damage-number", "c2s", scattered(rng, 0.04, limit), 8),  # seq's low byte
            _flip("damage-ack-number", "s2c", scattered(rng, 0.09, limit), 8),
            _flip("damage-ack", "s2c", scattered(rng, 0.04, limit), None),
        ]}


def copying(seed: object, packets: int) -> dict[str, Any]:
    """About one data packet in 4 and one ACK in 4 copied, over the first ``2 * packets``."""
    rng = random.Random(f"{seed}:copy")
    limit = 2 * packets
    return {
        "description":
            "1 ms each way; about 1 packet in 4 copied each way (seeded, at random)",  # not shown
        "c2s": {"delay_ms": 1}, "s2c": {"delay_ms": 1},
        "script": [
            {"name": "copy-data", "direction": "c2s", "proto": "udp", "packet": "data",
             "nth": scattered(rng, 0.25, limit), "action": "duplicate"},
            {"name": "copy-acks", "direction": "s2c", "proto": "udp", "packet": "data",
             "nth": scattered(rng, 0.25, limit), "action": "duplicate"},
        ]}


def fin_link(seed: object, packets: int) -> tuple[dict[str, Any], int]:
    """A clean link (1 ms each way) that loses the sender's first 3 or 4 FINs and holds the
    next one FIN_HOLD_MS (the FIN after it, sent a timeout later, overtakes it); and how
    many FINs it loses. Only FINs are 11-byte packets from the sender: the script counts
    them alone, whatever the sender sent before. The receiver's ACKs around the last data
    packet's (its ``packets``-th, asking for the FIN's number) are copied: a copy of that
    one reaches the sender once it has sent its FIN, and acknowledges no FIN.

    A sender that sends its FIN a few times and leaves meets no ACK; a receiver that does
    not linger meets the held FIN once it has answered the other.
    """
    lost = random.Random(f"{seed}:fin").randint(3, 4)
    fins = {"direction": "c2s", "proto": "udp", "packet": "data", "length": 11}
    return {
        "description": f"1 ms each way; the first {lost} FINs lost, the next held "  # not shown
                       f"{FIN_HOLD_MS} ms",
        "c2s": {"delay_ms": 1}, "s2c": {"delay_ms": 1},
        "script": [
            {"name": "lose-fins", **fins, "nth": list(range(1, lost + 1)), "action": "drop"},
            {"name": "hold-fin", **fins, "nth": [lost + 1], "action": "delay",
             "delay_ms": FIN_HOLD_MS},
            {"name": "copy-last-acks", "direction": "s2c", "proto": "udp", "packet": "data",
             "length": 11, "nth": [n for n in (packets - 1, packets, packets + 1) if n > 0],
             "action": "duplicate"},
        ]}, lost
