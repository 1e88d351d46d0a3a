"""Netlink messages as bytes: what the kernel expects, and what it sends, with no socket."""

import socket
import struct
from pathlib import Path

import pytest

from socklab.impair import nfqueue as nfq


def test_attribute_is_padded_but_its_length_is_not() -> None:
    assert nfq.attr(10, b"abcde") == struct.pack("=HH", 9, 10) + b"abcde\0\0\0"
    assert nfq.attr(3, b"abcd") == struct.pack("=HH", 8, 3) + b"abcd"


def test_bind_command_bytes() -> None:
    msg = nfq.config_cmd(queue=7, command=nfq.CMD_BIND, seq=3)
    expected = (
        struct.pack("=IHHII", 28, (3 << 8) | 2, 1 | 4, 3, 0)  # CONFIG, REQUEST|ACK
        + bytes([socket.AF_INET, 0])
        + b"\x00\x07"  # nfgenmsg: queue 7 big-endian
        + struct.pack("=HH", 8, 1)
        + bytes([1, 0])
        + b"\x00\x02"  # CMD: BIND, pf AF_INET
    )
    assert msg == expected


def test_params_and_maxlen_bytes() -> None:
    params = nfq.config_params(0, 0xFFFF, nfq.COPY_PACKET)
    assert params[20:] == struct.pack("=HH", 9, 2) + b"\x00\x00\xff\xff\x02" + b"\0\0\0"
    assert len(params) == struct.unpack_from("=I", params)[0] == 32
    maxlen = nfq.config_maxlen(0, 4096)
    assert maxlen[20:] == struct.pack("=HH", 8, 3) + struct.pack("!I", 4096)


def test_verdicts_bytes() -> None:
    drop = nfq.verdict(1, 0x01020304, accept=False)
    assert struct.unpack_from("=IHH", drop) == (32, (3 << 8) | 1, 1)
    assert drop[16:20] == b"\x00\x00\x00\x01"  # AF_UNSPEC, version 0, queue 1
    assert drop[20:] == struct.pack("=HH", 12, 2) + b"\x00\x00\x00\x00\x01\x02\x03\x04"
    accept = nfq.verdict(1, 5, accept=True, payload=b"\x45abc")
    assert accept[24:28] == b"\x00\x00\x00\x01"
    assert accept[32:] == struct.pack("=HH", 8, 10) + b"\x45abc"
    batch = nfq.verdict_batch(1, 9)
    assert struct.unpack_from("=H", batch, 4)[0] == (3 << 8) | 3


def packet_message(packet_id: int, payload: bytes, queue: int = 0, stamp: tuple[int, int] = (0, 0)) -> bytes:
    attrs = (
        nfq.attr(1, struct.pack("!IHB", packet_id, 0x0800, 2))
        + nfq.attr(4 | 0x4000, struct.pack("!QQ", *stamp))  # flagged net byte order
        + nfq.attr(5, struct.pack("!I", 11))
        + nfq.attr(6, struct.pack("!I", 12))
        + nfq.attr(10, payload)
    )
    return nfq.message(0, queue, attrs, flags=0)


def test_packet_messages_are_split_and_parsed() -> None:
    buf = packet_message(1, b"E" * 21) + packet_message(2, b"F" * 40)
    parsed = [nfq.parse_packet(body) for header, body in nfq.messages(buf)]
    assert [(q.id, q.hook, q.indev, q.outdev, q.payload) for q in parsed] == [
        (1, nfq.HOOK_FORWARD, 11, 12, b"E" * 21),
        (2, nfq.HOOK_FORWARD, 11, 12, b"F" * 40),
    ]
    assert not parsed[0].truncated


def test_the_kernels_timestamp_is_read_where_it_gave_one() -> None:
    # What kernel 6.18 sends once a socket asked for timestamps: seconds and microseconds
    # of the real-time clock (checked against time.time() in a real run: 0.1 ms before it).
    stamped = packet_message(7, b"E" * 21, stamp=(1_796_511_989, 977_978))
    ((_header, body),) = nfq.messages(stamped)
    assert nfq.parse_packet(body).stamp == pytest.approx(1_796_511_989.977978, abs=1e-7)
    bare = nfq.message(
        0, 0, nfq.attr(1, struct.pack("!IHB", 8, 0x0800, 2)) + nfq.attr(10, b"F" * 20), flags=0
    )
    ((_header, body),) = nfq.messages(bare)
    assert nfq.parse_packet(body).stamp == 0.0  # none: the engine uses its own clock


def test_timestamps_are_asked_for_with_a_socket_that_wants_them() -> None:
    sock = nfq.enable_timestamps()
    assert sock is not None
    try:
        assert sock.getsockopt(socket.SOL_SOCKET, nfq.SO_TIMESTAMP) == 1
    finally:
        sock.close()


def test_a_short_message_is_refused() -> None:
    buf = bytearray(packet_message(1, b"E"))
    struct.pack_into("=I", buf, 0, 8)
    with pytest.raises(ValueError, match="length must be between 16 and"):
        list(nfq.messages(buf))


def test_error_and_ack_codes() -> None:
    assert nfq.error_code(memoryview(struct.pack("=i", -2) + b"\0" * 16)) == 2
    assert nfq.error_code(memoryview(struct.pack("=i", 0))) == 0


def decode(messages: list[bytes]) -> list[tuple[str, int]]:
    out = []
    for m in messages:
        kind = struct.unpack_from("=H", m, 4)[0] & 0xFF
        verdict, packet_id = struct.unpack_from("!II", m, 24)
        name = {nfq.MSG_VERDICT: "one", nfq.MSG_VERDICT_BATCH: "upto"}[kind]
        out.append((name, packet_id) if verdict == nfq.NF_ACCEPT else ("drop", packet_id))
    return out


def test_accepts_batch_only_below_the_oldest_held_packet() -> None:
    assert decode(nfq.accepts(0, [1, 2, 3], float("inf"))) == [("upto", 3)]
    assert decode(nfq.accepts(0, [3], float("inf"))) == [("one", 3)]
    assert decode(nfq.accepts(0, [1, 2, 5, 6], 4)) == [("upto", 2), ("one", 5), ("one", 6)]
    assert decode(nfq.accepts(0, [5, 6], 4)) == [("one", 5), ("one", 6)]
    assert nfq.accepts(0, [], 4) == []


def test_counters_reads_the_kernels_overload_counts(tmp_path: Path) -> None:
    proc = tmp_path / "nfnetlink_queue"
    proc.write_text("    0  24     3 2 65531     5     7      9  1\n    1  25     0 2 65531  0 0 0 1\n")
    assert nfq.counters(0, proc) == {
        "queue_total": 3,
        "queue_dropped": 5,
        "user_dropped": 7,
        "id_sequence": 9,
    }
    assert nfq.counters(2, proc) == {}
    assert nfq.counters(0, tmp_path / "missing") == {}


def test_a_verdict_without_payload_is_built_as_the_general_form() -> None:
    for queue in (0, 1, 300):
        for accept in (True, False):
            for packet_id in (1, 0xFFFFFFFF):
                header = nfq.attr(nfq.ATTR_VERDICT_HDR, struct.pack("!II", int(accept), packet_id))
                assert nfq.verdict(queue, packet_id, accept) == nfq.message(
                    nfq.MSG_VERDICT, queue, header, family=socket.AF_UNSPEC
                )
                assert nfq.verdict_batch(queue, packet_id, accept) == nfq.message(
                    nfq.MSG_VERDICT_BATCH, queue, header, family=socket.AF_UNSPEC
                )


class FakeNetlink:
    """Hands out prepared datagrams, one per recv_into, then EAGAIN; ACKs requests."""

    def __init__(self) -> None:
        self.datagrams: list[bytes] = []

    def bind(self, address: object) -> None: ...
    def setsockopt(self, *args: object) -> None: ...
    def setblocking(self, flag: bool) -> None: ...

    def send(self, data: bytes) -> int:
        seq = struct.unpack_from("=I", data, 8)[0]
        self.datagrams.append(
            struct.pack("=IHHII", 36, nfq.NLMSG_ERROR, 0, seq, 0) + struct.pack("=i", 0) + data[:16]
        )
        return len(data)

    def recv_into(self, buf: bytearray) -> int:
        if not self.datagrams:
            raise BlockingIOError
        data = self.datagrams.pop(0)
        buf[: len(data)] = data
        return len(data)


def test_receive_splits_datagrams_parses_packets_and_counts_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeNetlink()
    monkeypatch.setattr(nfq.socket, "socket", lambda *args: fake)
    queue = nfq.Queue(0)
    error = struct.pack("=IHHII", 36, nfq.NLMSG_ERROR, 0, 0, 0) + struct.pack("=i", -2) + b"\0" * 16
    fake.datagrams = [
        packet_message(1, b"E" * 21),
        packet_message(2, b"F" * 40) + error + packet_message(3, b"G" * 3),
    ]
    got = queue.receive()
    assert [(q.id, q.hook, q.indev, q.outdev, q.payload, q.truncated) for q in got] == [
        (1, 2, 11, 12, b"E" * 21, False),
        (2, 2, 11, 12, b"F" * 40, False),
        (3, 2, 11, 12, b"G" * 3, False),
    ]
    assert queue.errors == {2: 1}
    assert queue.receive() == []
    fake.datagrams = [packet_message(4, b"H") + b"\0" * 3]  # a truncated header at the end
    assert [q.id for q in queue.receive()] == [4]
    bad = bytearray(packet_message(5, b"I"))
    struct.pack_into("=I", bad, 0, 200)
    fake.datagrams = [bytes(bad)]
    with pytest.raises(ValueError, match="length must be between 16 and"):
        queue.receive()
