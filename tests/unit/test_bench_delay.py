"""The delay benchmark's judging: errors on the wire from a capture on the router."""

from __future__ import annotations

import struct

import pytest

from socklab import bench_delay
from socklab.checking import pcap

CLIENT, SERVER = "10.0.1.10", "10.0.2.10"


def datagram(seq: int, ident: int, port: int = bench_delay.PORT) -> bytes:
    udp = struct.pack("!HHHH", 40000, port, 8 + 20, 0) + struct.pack("!I", seq) + bytes(16)
    addr = [bytes(map(int, a.split("."))) for a in (CLIENT, SERVER)]
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), ident, 0, 64, 17, 0, *addr) + udp


def capture(records: list[tuple[float, bool, bytes]]) -> bytes:
    """A nanosecond SLL2 capture: (time, sent by the router, IP packet) each."""
    data = struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 262144, pcap.LINKTYPE_SLL2)
    for t, out, packet in records:
        frame = struct.pack("!HHIHBB8s", 0x0800, 0, 9 if out else 7, 1, 4 if out else 0, 6, bytes(8)) + packet
        sec, nsec = divmod(round(t * 1e9), 10**9)
        data += struct.pack("<IIII", sec, nsec, len(frame), len(frame)) + frame
    return data


def test_errors_pair_each_datagram_in_and_out_on_one_clock() -> None:
    records = [
        (100.000, False, datagram(0, 1)),
        (100.001, False, datagram(1, 2)),
        (100.0052, True, datagram(0, 1)),  # 5.2 ms: 0.2 late
        (100.0059, True, datagram(1, 2)),  # 4.9 ms: 0.1 early
        (100.002, False, datagram(2, 3)),  # never went out
        (100.003, False, datagram(3, 4, port=53)),  # another port: not ours
        (100.0081, True, datagram(3, 4, port=53)),
    ]
    errs, lost = bench_delay.errors(capture(records), 5.0)
    assert errs == pytest.approx([0.2, -0.1], abs=1e-6) and lost == 1


def test_figures_give_the_size_of_the_error_and_its_sign() -> None:
    errs = [0.1] * 98 + [-0.5, 2.0]
    named = {name.split(", ")[1]: value for name, value, _unit, _how in bench_delay.figures(errs, 0, 1000)}
    assert named == {
        "p50 |error| at 1000 packets/s": 0.1,
        "p99 |error| at 1000 packets/s": 0.5,
        "max |error| at 1000 packets/s": 2.0,
        "mean (signed) at 1000 packets/s": pytest.approx(0.113),
    }
    with pytest.raises(SystemExit, match="saw no datagram both ways"):
        bench_delay.figures([], 3, 1000)
