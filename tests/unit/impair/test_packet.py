"""Header parsing, checksums, and corruption that a receiver does or does not detect."""

import random
import struct

import pytest

from socklab.impair import packet
from socklab.impair.model import ACK, C2S, ICMP, PSH, S2C, TCP, UDP

from .build import ipv4, ref_checksum, tcp, udp


def test_parse_tcp() -> None:
    data = tcp(seq=7, ack=9, flags=PSH | ACK, payload=b"hello")
    p = packet.parse(data, C2S)
    assert (p.proto, p.src, p.sport, p.dst, p.dport) == (TCP, "10.0.0.10", 40000, "10.0.1.10", 5000)
    assert (p.seq, p.ack, p.flags, p.length, p.size, p.payload_at) == (7, 9, PSH | ACK, 5, 45, 40)
    assert data[p.payload_at :] == b"hello"


def test_parse_udp_and_icmp() -> None:
    p = packet.parse(udp(payload=b"x" * 30), S2C)
    assert (p.direction, p.proto, p.dport, p.length, p.payload_at) == (S2C, UDP, 6000, 30, 28)
    icmp = packet.parse(ipv4(ICMP, "10.0.0.10", "10.0.1.10", b"\x08\0\0\0" + b"p" * 60), C2S)
    assert (icmp.proto, icmp.sport, icmp.dport, icmp.size) == (ICMP, 0, 0, 84)


def test_a_later_fragment_has_no_ports() -> None:
    data = bytearray(udp(payload=b"x" * 30))
    struct.pack_into("!H", data, 6, 0x0010)  # fragment offset 16 * 8 bytes
    p = packet.parse(bytes(data), C2S)
    assert (p.sport, p.dport, p.payload_at) == (0, 0, 20)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x45" * 10, "at least 20 bytes, not 10"),
        (b"\x60" + b"\0" * 39, "IP version must be 4, not 6"),
    ],
)
def test_parse_rejects_what_is_not_ipv4(data: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        packet.parse(data, C2S)


def test_checksum_matches_the_plain_rfc_1071_sum() -> None:
    rng = random.Random(1)
    for n in (0, 1, 2, 3, 20, 1499, 1500):
        data = rng.randbytes(n)
        assert packet.checksum(data) == ref_checksum(data)


def test_built_packets_have_correct_checksums() -> None:
    for data in (tcp(payload=b"abc"), udp(payload=b"abcd"), tcp()):
        assert packet.checksums_ok(data)
        assert packet.l4_checksum(data) == struct.unpack_from("!H", data, 36 if data[9] == TCP else 26)[0]


def test_fix_checksums_repairs_a_changed_packet() -> None:
    data = bytearray(tcp(payload=b"abcdef"))
    data[8] = 1  # TTL
    data[-1] ^= 0xFF
    assert not packet.checksums_ok(data)
    packet.fix_checksums(data)
    assert packet.checksums_ok(data)


@pytest.mark.parametrize("build", [tcp, udp])
def test_undetected_corruption_changes_one_payload_bit_and_fixes_the_checksum(build) -> None:
    data = build(payload=b"integrity")
    at = len(data) - 4
    bad = packet.corrupt(data, at, 3, detected=False)
    diff = [i for i, (a, b) in enumerate(zip(data, bad, strict=True)) if a != b]
    assert at in diff and bad[at] == data[at] ^ 0x08
    assert packet.checksums_ok(bad)
    assert set(diff) - {at} <= {26, 27, 36, 37}  # only the L4 checksum changed besides


@pytest.mark.parametrize("build", [tcp, udp])
def test_detected_corruption_leaves_the_l4_checksum_wrong(build) -> None:
    data = build(payload=b"integrity")
    bad = packet.corrupt(data, len(data) - 1, 0, detected=True)
    assert not packet.checksums_ok(bad)
    assert struct.unpack_from("!H", bad, 10)[0] == packet.ip_checksum(bad)  # IP header fine
    assert sum(a != b for a, b in zip(data, bad, strict=True)) == 1


def test_a_udp_checksum_of_zero_stays_zero() -> None:
    data = bytearray(udp(payload=b"no checksum"))
    struct.pack_into("!H", data, 26, 0)
    bad = packet.corrupt(bytes(data), len(data) - 1, 1, detected=False)
    assert struct.unpack_from("!H", bad, 26)[0] == 0
    assert packet.checksums_ok(bad)


def test_corrupt_checks_its_position() -> None:
    with pytest.raises(ValueError, match="offset must be within the packet's 28 bytes, not 28"):
        packet.corrupt(udp(), 28, 0, detected=True)
    with pytest.raises(ValueError, match="bit must be between 0 and 7, not 8"):
        packet.corrupt(udp(), 0, 8, detected=True)


def no_checksum_udp(payload: bytes = b"hello") -> bytes:
    """A datagram whose sender computed no checksum (SO_NO_CHECK): the field is 0."""
    data = bytearray(udp(payload=payload))
    data[26:28] = b"\0\0"
    return bytes(data)


def test_only_a_udp_datagram_with_checksum_0_carries_none() -> None:
    assert packet.no_checksum(no_checksum_udp())
    assert not packet.no_checksum(udp(payload=b"hello"))
    assert not packet.no_checksum(tcp(payload=b"hello"))
    later = bytearray(no_checksum_udp())
    struct.pack_into("!H", later, 6, 0x0010)  # a later fragment: bytes 26:28 are payload
    assert not packet.no_checksum(bytes(later))
    assert not packet.no_checksum(no_checksum_udp()[:27])


def test_detected_corruption_of_a_datagram_without_checksum_is_undetectable() -> None:
    from socklab.impair.model import Corrupt, Deliver

    decision = (Deliver("r"), Corrupt("r", 30, 1, True))
    assert packet.as_received(decision, udp(payload=b"hello")) == decision
    assert packet.as_received(decision, no_checksum_udp()) == (
        Deliver("r"),
        Corrupt("r", 30, 1, False, undetectable=True),
    )
    undetected = (Deliver("r"), Corrupt("r", 30, 1, False))  # as asked: not relabelled
    assert packet.as_received(undetected, no_checksum_udp()) == undetected
    # and indeed no receiver can tell: the flipped datagram still "checks"
    flipped = packet.corrupt(no_checksum_udp(), 30, 1, True)
    assert flipped != no_checksum_udp() and packet.checksums_ok(flipped)
