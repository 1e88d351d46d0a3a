"""The router's captures split per interface: each packet once in the files students open."""

from __future__ import annotations

import struct

import pytest

from socklab.checking import pcap

CLIENT, SERVER = "10.0.1.2", "10.0.2.2"
CLIENT_SIDE, SERVER_SIDE = 7, 9  # the router's interface indexes on the two networks
HOST, OUTGOING = 0, 4  # the SLL2 packet types: to the router, sent by it


def ip_packet(src: str, dst: str, ident: int) -> bytes:
    addr = [bytes(map(int, a.split("."))) for a in (src, dst)]
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28, ident, 0, 64, 17, 0, *addr) + bytes(8)


def sll2(ifindex: int, pkttype: int, packet: bytes) -> bytes:
    return struct.pack("!HHIHBB8s", 0x0800, 0, ifindex, 1, pkttype, 6, bytes(8)) + packet


def capture(frames: list[bytes], linktype: int = pcap.LINKTYPE_SLL2) -> bytes:
    data = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, linktype)
    for i, frame in enumerate(frames):
        data += struct.pack("<IIII", 100, i, len(frame), len(frame)) + frame
    return data


def forwarded() -> list[bytes]:
    """A datagram each way through the router, and one it dropped (seen coming in only)."""
    there, back, lost = (
        ip_packet(CLIENT, SERVER, 1),
        ip_packet(SERVER, CLIENT, 2),
        ip_packet(SERVER, CLIENT, 3),
    )
    return [
        sll2(CLIENT_SIDE, HOST, there),
        sll2(SERVER_SIDE, OUTGOING, there),
        sll2(SERVER_SIDE, HOST, back),
        sll2(CLIENT_SIDE, OUTGOING, back),
        sll2(SERVER_SIDE, HOST, lost),
    ]


def idents(data: bytes) -> list[tuple[int, bool]]:
    return [(p.ident, p.outgoing) for p in pcap.ipv4(data)]


def test_sides_hold_each_packet_once_as_it_crossed_that_interface():
    both = capture(forwarded())
    near, far = pcap.sides(both, CLIENT)
    assert idents(near) == [(1, False), (2, True)]
    assert idents(far) == [(1, True), (2, False), (3, False)]
    assert near[:24] == far[:24] == both[:24]
    assert [p.t for p in pcap.ipv4(near)] == [100 + 0 / 1e6, 100 + 3 / 1e6]


def test_the_client_side_is_found_by_what_was_sent_to_the_client_if_it_sent_nothing():
    frames = forwarded()[2:4]
    near, far = pcap.sides(capture(frames), CLIENT)
    assert idents(near) == [(2, True)]
    assert idents(far) == [(2, False)]


def test_a_capture_without_the_client_keeps_everything_on_the_far_side():
    near, far = pcap.sides(capture(forwarded()), "10.9.9.9")
    assert idents(near) == []
    assert len(idents(far)) == 5


def test_only_sll2_names_the_interface():
    with pytest.raises(pcap.PcapError, match="SLL2"):
        pcap.sides(capture([], linktype=pcap.LINKTYPE_SLL), CLIENT)


def test_save_writes_one_file_per_interface(tmp_path):
    path = tmp_path / "exchange.pcap"
    pcap.save(capture(forwarded()), CLIENT, path)
    assert idents(path.read_bytes()) == [(1, False), (2, True)]
    assert len(idents((tmp_path / "exchange.server-side.pcap").read_bytes())) == 3


def test_save_writes_a_capture_it_cannot_split_whole(tmp_path):
    path = tmp_path / "exchange.pcap"
    pcap.save(b"garbage", CLIENT, path)
    assert path.read_bytes() == b"garbage"
    assert not (tmp_path / "exchange.server-side.pcap").exists()
