"""A student's flood, read from the engine's log: the busiest second of UDP one way."""

from __future__ import annotations

from socklab import impairing


def udp(t: float, way: str = "c2s", proto: str = "udp") -> dict:
    return {"t_in": t, "dir": way, "proto": proto, "decision": "pass"}


def test_a_right_programs_traffic_is_no_flood():
    records = [udp(100 + i / 1000) for i in range(3000)]  # 3,000 in 3 s
    assert impairing.flood(records) is None
    assert impairing.flood([]) is None


def test_the_busiest_second_over_the_bound_is_a_flood_and_names_its_side():
    records = [udp(50 + i / 10_000, "s2c") for i in range(impairing.FLOOD)]
    assert "the server's programs flooded the link: 5,000 UDP" in impairing.flood(records)


def test_tcp_and_records_without_a_time_are_not_counted():
    records = [udp(7.5, proto="tcp")] * impairing.FLOOD + [{"event": "log-cut", "t": 7.6}]
    assert impairing.flood(records) is None
