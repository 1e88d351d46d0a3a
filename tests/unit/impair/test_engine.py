"""The engine loop's bookkeeping over byte-level queue and injector doubles (I/O only)."""

import io
import ipaddress
import json
import struct

import pytest

from socklab.impair import control, nfqueue, packet, profiles
from socklab.impair import engine as engine_module
from socklab.impair.engine import Engine, direction_of
from socklab.impair.model import C2S, S2C, Impairment, Match, Profile, Rule, Script
from socklab.impair.stats import format_summary

from .build import tcp, udp

NET = ipaddress.IPv4Network("10.0.0.0/24")


class Wire:
    """What left the engine, in order: verdicts (decoded) and injected packets."""

    def __init__(self) -> None:
        self.out: list[tuple] = []
        self.number = 0
        self.enobufs = 0
        self.incoming: list[nfqueue.Queued] = []

    # the queue's side
    def send(self, data: bytes) -> None:
        for header, body in nfqueue.messages(data):
            attrs = nfqueue.attributes(body)
            verdict, packet_id = struct.unpack("!II", attrs[nfqueue.ATTR_VERDICT_HDR])
            kind = {nfqueue.MSG_VERDICT: "one", nfqueue.MSG_VERDICT_BATCH: "upto"}[header.type & 0xFF]
            payload = bytes(attrs[nfqueue.ATTR_PAYLOAD]) if nfqueue.ATTR_PAYLOAD in attrs else None
            name = kind if verdict == nfqueue.NF_ACCEPT else "drop"
            self.out.append((name, packet_id) if payload is None else (name, packet_id, payload))

    def receive(self) -> list[nfqueue.Queued]:
        out, self.incoming = self.incoming, []
        return out

    def fileno(self) -> int:
        return -1


class Injector:
    def __init__(self, wire: Wire) -> None:
        self.wire = wire

    def send(self, data: bytes) -> bool:
        self.wire.out.append(("inject", data))
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def engine(prof: Profile, log: io.StringIO | None = None) -> tuple[Engine, Wire, Clock]:
    wire, clock = Wire(), Clock()
    eng = Engine(wire, Injector(wire), prof, 1, NET, log, clock=clock)  # type: ignore[arg-type]
    return eng, wire, clock


def arrive(eng: Engine, wire: Wire, *packets: tuple[int, bytes]) -> None:
    wire.incoming = [nfqueue.Queued(i, 2, 1, 2, data, False) for i, data in packets]
    eng.on_readable()
    eng.flush()


def rule(**impair: object) -> Profile:
    return Profile("t", rules=(Rule("default", C2S, Match(), Impairment(**impair)),))


def test_direction_comes_from_the_client_subnet() -> None:
    direction = direction_of(NET)
    assert direction(udp(src="10.0.0.9", dst="10.0.1.9")) == C2S
    assert direction(udp(src="10.0.1.9", dst="10.0.0.9")) == S2C


def test_packets_passed_together_share_one_batch_verdict() -> None:
    eng, wire, _ = engine(profiles.get("clean"))
    arrive(eng, wire, (1, udp()), (2, udp()), (3, udp()))
    assert wire.out == [("upto", 3)]


def test_a_held_packet_is_never_covered_by_a_batch() -> None:
    prof = Profile(
        "t", scripts=(Script("hold", C2S, Match(), "delay", nth=(2,), per="direction", delay_ms=50),)
    )
    eng, wire, clock = engine(prof)
    arrive(eng, wire, (1, udp()), (2, udp()), (3, udp()), (4, udp()))
    assert wire.out == [("one", 1), ("one", 3), ("one", 4)]
    assert eng.timeout() == pytest.approx(0.05)
    clock.now += 0.05
    eng.release_due()
    eng.flush()
    assert wire.out[3:] == [("one", 2)]
    arrive(eng, wire, (5, udp()), (6, udp()))
    assert wire.out[4:] == [("upto", 6)]


def test_drops_go_before_the_batch_that_would_accept_them() -> None:
    eng, wire, _ = engine(rule(loss=1.0))
    arrive(
        eng,
        wire,
        (1, udp(src="10.0.1.10", dst="10.0.0.10")),
        (2, udp()),
        (3, udp(src="10.0.1.10", dst="10.0.0.10")),
    )
    assert wire.out == [("drop", 2), ("upto", 3)]
    assert eng.stats.summary()["rules"][1]["counts"] == {"drop_loss": 1}


def test_a_corrupted_packet_is_sent_changed_and_its_duplicate_right_after_it() -> None:
    prof = Profile(
        "t",
        scripts=(
            Script("flip", C2S, Match(), "corrupt", nth=(1,), byte=0, bit=0, per="direction"),
            Script("dup", C2S, Match(), "duplicate", nth=(2,), per="direction"),
        ),
    )
    eng, wire, _ = engine(prof)
    first, second = udp(payload=b"abc"), udp(payload=b"def")
    arrive(eng, wire, (1, first), (2, second), (3, udp()))
    (kind, pid, changed), after, inject, last = wire.out
    assert (kind, pid) == ("one", 1) and changed[28] == first[28] ^ 1
    assert packet.checksums_ok(changed) is False
    assert after == ("one", 2) and inject == ("inject", second) and last == ("one", 3)


def test_log_lines_and_runtime_control() -> None:
    log = io.StringIO()
    eng, wire, clock = engine(profiles.get("lossy"), log)
    arrive(eng, wire, *[(i, udp()) for i in range(1, 41)])
    clock.now += 0.011
    eng.release_due()
    eng.flush()
    lines = [json.loads(x) for x in log.getvalue().splitlines()]
    assert lines[0]["event"] == "config" and lines[0]["profile"] == "lossy"
    packets = [x for x in lines if "event" not in x]
    assert len(packets) == 40 and {x["version"] for x in packets} == {1}
    stats = control.handle(eng, {"cmd": "stats"})
    assert stats["ok"] and stats["stats"]["rules"][0]["packets"] == 40
    reply = control.handle(eng, {"cmd": "set", "update": {"c2s": {"loss": 0.5}}, "seed": 9})
    assert reply == {"ok": True, "version": 2, "profile": "lossy", "seed": 9}
    shown = control.handle(eng, {"cmd": "show"})
    assert shown["config"]["c2s"] == {"loss": 0.5, "delay_ms": 10} and shown["seed"] == 9
    assert json.loads(log.getvalue().splitlines()[-1])["version"] == 2
    bad = control.handle(eng, {"cmd": "set", "update": {"c2s": {"loss": 2}}})
    assert bad == {"ok": False, "error": "control: [lossy.c2s] loss must be between 0 and 1, not 2"}
    assert eng.version == 2
    assert control.handle(eng, {"cmd": "reset"})["version"] == 3
    assert eng.profile.name == "lossy" and eng.seed == 1
    assert control.handle(eng, {"cmd": "set", "profile": "clean"})["version"] == 4
    custom = control.handle(eng, {"cmd": "set", "config": {"s2c": {"duplicate": 0.1}}})
    assert custom["profile"] == "custom"
    assert len(control.handle(eng, {"cmd": "log", "last": 5})["text"]) == 5
    assert control.handle(eng, {"cmd": "nope"})["error"].startswith("cmd must be one of show")
    assert not control.handle(eng, {"cmd": "set", "bogus": 1})["ok"]


def test_overload_counts_last_across_config_versions() -> None:
    eng, wire, _ = engine(profiles.get("clean"))
    arrive(eng, wire, (1, b"\x60" + b"\0" * 39))  # an IPv6 header: passed, counted
    assert wire.out == [("one", 1)]
    control.handle(eng, {"cmd": "set", "profile": "lossy"})
    assert eng.stats.summary()["overload"]["unparsed"] == 1


def test_drain_releases_what_is_held() -> None:
    eng, wire, _ = engine(rule(delay_ms=10_000))
    arrive(eng, wire, (1, udp()), (2, tcp()))
    assert wire.out == []
    assert eng.drain(0.0) == 2
    assert wire.out == [("upto", 2)]


class FullDisk(io.StringIO):
    def write(self, text: str) -> int:
        raise OSError(28, "No space left on device")


def test_a_failing_log_stops_logging_not_impairing(capsys: pytest.CaptureFixture[str]) -> None:
    eng, wire, _ = engine(profiles.get("clean"), FullDisk())
    arrive(eng, wire, (1, udp()), (2, udp()))
    assert wire.out == [("upto", 2)]
    assert eng.stats.summary()["overload"] == {"log_failed": 1}
    assert "the event log failed" in capsys.readouterr().err


def test_a_flood_is_decided_and_counted_but_its_log_is_cut_once(monkeypatch) -> None:
    monkeypatch.setattr(engine_module, "LOG_LIMIT", 3)
    out = io.StringIO()
    eng, wire, _ = engine(profiles.get("clean"), out)
    arrive(eng, wire, (1, udp()), (2, udp()))
    arrive(eng, wire, (3, udp()), (4, udp()))
    arrive(eng, wire, (5, udp()))
    assert wire.out[-1][1] == 5  # every packet passed
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    packets = [r for r in records if "decision" in r]
    cuts = [r for r in records if r.get("event") == "log-cut"]
    assert [p["id"] for p in packets] == [1, 2, 3]
    assert len(cuts) == 1 and cuts[0]["after"] == 3
    assert eng.stats.summary()["overload"] == {}  # a cut log is no overload


def test_detected_corruption_of_a_datagram_without_checksum_is_logged_undetectable() -> None:
    prof = Profile(
        "t", scripts=(Script("flip", C2S, Match(), "corrupt", nth=(1, 2), byte=0, bit=0, per="direction"),)
    )
    out = io.StringIO()
    eng, wire, _ = engine(prof, out)
    bare = bytearray(udp(payload=b"abc"))
    bare[26:28] = b"\0\0"  # the sender's SO_NO_CHECK
    arrive(eng, wire, (1, bytes(bare)), (2, udp(payload=b"abc")))
    (_, _, sent_bare), (_, _, sent_checked) = wire.out
    assert sent_bare[26:28] == b"\0\0" and packet.checksums_ok(sent_bare)  # nobody can tell
    assert not packet.checksums_ok(sent_checked)
    lines = [json.loads(x) for x in out.getvalue().splitlines() if '"decision"' in x]
    assert [x["decision"] for x in lines] == [
        "pass + corrupt payload byte 0 bit 0 (undetectable: no UDP checksum)",
        "pass + corrupt payload byte 0 bit 0 (detected)",
    ]
    assert lines[0]["corrupt"]["undetectable"] and not lines[0]["corrupt"]["detected"]
    assert "undetectable" not in lines[1]["corrupt"]
    row = eng.stats.summary()["rules"][0]
    assert row["counts"] == {"corrupt": 2, "corrupt_undetectable": 1, "pass": 2}
    assert row["corrupt"]["undetectable"] == 1
    assert "1 corrupted datagrams carried no UDP checksum" in format_summary(eng.stats.summary())


def test_the_log_of_one_wake_up_is_in_arrival_order() -> None:
    # Packet 1 held 10 ms, released in the wake-up that reads 2 (dropped) and 3 (passed):
    # the lines come 1, 2, 3, though the drop was decided first and 1 left with 3.
    prof = Profile(
        "t",
        scripts=(
            Script("hold", C2S, Match(), "delay", nth=(1,), per="direction", delay_ms=10),
            Script("lose", C2S, Match(), "drop", nth=(2,), per="direction"),
        ),
    )
    out = io.StringIO()
    eng, wire, clock = engine(prof, out)
    arrive(eng, wire, (1, udp()))
    clock.now += 0.010
    eng.process(nfqueue.Queued(2, 2, 1, 2, udp(), False), clock.now)
    eng.release_due()
    eng.process(nfqueue.Queued(3, 2, 1, 2, udp(), False), clock.now)
    eng.flush()
    ids = [json.loads(x)["id"] for x in out.getvalue().splitlines() if '"decision"' in x]
    assert ids == [1, 2, 3]
    assert wire.out == [("drop", 2), ("upto", 3)]


def test_time_in_the_kernels_queue_counts_in_the_delay_and_the_lateness() -> None:
    out = io.StringIO()
    wire, clock = Wire(), Clock()
    eng = Engine(
        wire,
        Injector(wire),
        rule(delay_ms=20),
        1,
        NET,
        out,  # type: ignore[arg-type]
        clock=clock,
        wall=lambda: clock.now + 1_700_000_000.0,
    )
    wall_now = clock.now + 1_700_000_000.0
    # 1: delayed 20 ms, waited 5 ms in the kernel's queue; 2 (s2c, no rule): passed, waited
    # 3 ms; 3: no kernel timestamp, its delay counts from when the engine read it.
    wire.incoming = [
        nfqueue.Queued(1, 2, 1, 2, udp(), False, wall_now - 0.005),
        nfqueue.Queued(2, 2, 1, 2, udp(src="10.0.1.10", dst="10.0.0.10"), False, wall_now - 0.003),
        nfqueue.Queued(3, 2, 1, 2, udp(), False),
    ]
    eng.on_readable()
    eng.flush()
    assert wire.out == [("one", 2)]
    assert eng.held[0][0] == pytest.approx(clock.now + 0.015)  # arrival + 20 ms
    clock.now += 0.015
    eng.release_due()
    eng.flush()
    assert wire.out[1:] == [("one", 1)]
    clock.now += 0.005
    eng.release_due()
    eng.flush()
    lines = {r["id"]: r for r in map(json.loads, out.getvalue().splitlines()) if "id" in r}
    assert lines[1]["queued_ms"] == pytest.approx(5.0) and lines[1]["held_ms"] == 20.0
    assert lines[1]["t_out"] - lines[1]["t_in"] == pytest.approx(0.020)
    assert lines[2]["queued_ms"] == pytest.approx(3.0)
    assert "queued_ms" not in lines[3] and lines[3]["t_out"] - lines[3]["t_in"] == (pytest.approx(0.020))
    summary = eng.stats.summary()
    assert summary["queued_ms"]["available"] and summary["queued_ms"]["max"] == 5.0
    passed = next(r for r in summary["rules"] if r["direction"] == S2C)
    assert passed["late_ms"]["p99"] == pytest.approx(3.0)  # it left 3 ms after it came
    assert "queued before the engine: p50/p99/max 3.00/5.00/5.00 ms" in format_summary(summary)


def test_without_kernel_timestamps_the_queue_wait_is_said_to_be_unavailable() -> None:
    eng, wire, _ = engine(profiles.get("clean"))
    arrive(eng, wire, (1, udp()))
    summary = eng.stats.summary()
    assert summary["queued_ms"]["available"] is False
    assert "queued before the engine: unavailable (the kernel gave no NFQA_TIMESTAMP)" in format_summary(
        summary
    )


def test_a_stalled_engine_keeps_the_rate_limit_bound_on_the_wire() -> None:
    # Four packets fill a 4-packet queue (10 ms each, out by 100.04); the engine then
    # stalls until 100.06 and reads five that came at 100.045. Planned, the queue was
    # empty by then; on the wire the four were still in the router: all five are dropped.
    wire, clock = Wire(), Clock()
    eng = Engine(
        wire,
        Injector(wire),
        rule(rate_kbit=1000, rate_queue=4),
        1,  # type: ignore[arg-type]
        NET,
        None,
        clock=clock,
        wall=lambda: clock.now,
    )
    big = udp(payload=b"x" * 1222)  # 1250 bytes
    back = udp(src="10.0.1.10", dst="10.0.0.10")  # s2c, no rule: passes, the wake-up sends
    wire.incoming = [nfqueue.Queued(i, 2, 1, 2, big, False, 100.0) for i in range(1, 5)] + [
        nfqueue.Queued(10, 2, 1, 2, back, False, 100.0)
    ]
    eng.on_readable()
    eng.flush()
    assert eng.gone_by(100.045) == 100.0 + engine_module.ON_TIME
    clock.now = 100.060
    wire.incoming = [nfqueue.Queued(i, 2, 1, 2, big, False, 100.045) for i in range(5, 10)]
    eng.on_readable()
    eng.flush()
    assert [v for v in wire.out if v[0] == "drop"] == [("drop", i) for i in range(5, 10)]
    row = next(r for r in eng.stats.summary()["rules"] if r["rule"] == "default")
    assert row["rate_queue"]["in_router_max"] == 4 and row["late_ms"]["max"] == 50.0


def test_what_an_engine_has_sent_counts_as_gone() -> None:
    eng, wire, clock = engine(rule(delay_ms=30))
    assert eng.gone_by(clock.now) == float("-inf")  # nothing sent yet: all still here
    arrive(eng, wire, (1, udp()), (2, udp(src="10.0.1.10", dst="10.0.0.10")))  # 2 passes
    assert eng.gone_by(clock.now) == clock.now + engine_module.ON_TIME  # 1 is not due yet
    clock.now += 0.040  # 1 was due at +0.030: the engine is 10 ms late with it
    arrive(eng, wire, (3, udp(src="10.0.1.10", dst="10.0.0.10")))
    assert eng.gone_by(clock.now - 0.005) == 100.0 + engine_module.ON_TIME  # 1 still here
    assert eng.gone_by(clock.now) == clock.now + engine_module.ON_TIME
