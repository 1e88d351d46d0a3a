"""NFQUEUE over a raw netlink socket, and raw IPv4 injection: the only module that touches them.

Constants follow the kernel's UAPI headers ``linux/netfilter/nfnetlink_queue.h`` and
``linux/netfilter.h``; each was checked against a real kernel with ACKs requested.
The message builders and parsers work on bytes, so the tests need no socket.
"""

from __future__ import annotations

import errno
import functools
import socket
import struct
from collections import Counter, deque
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from socklab.impair.model import new_tuple

NETLINK_NETFILTER = 12  # Python's socket module has no name for it
NFNL_SUBSYS_QUEUE = 3
MSG_PACKET, MSG_VERDICT, MSG_CONFIG, MSG_VERDICT_BATCH = 0, 1, 2, 3
NLM_F_REQUEST, NLM_F_ACK = 0x1, 0x4
NLMSG_ERROR, NLMSG_DONE = 2, 3
CFG_CMD, CFG_PARAMS, CFG_QUEUE_MAXLEN, CFG_MASK, CFG_FLAGS = 1, 2, 3, 4, 5
CMD_BIND, CMD_UNBIND = 1, 2
COPY_NONE, COPY_META, COPY_PACKET = 0, 1, 2
ATTR_PACKET_HDR, ATTR_VERDICT_HDR, ATTR_MARK, ATTR_TIMESTAMP = 1, 2, 3, 4
ATTR_IFINDEX_INDEV, ATTR_IFINDEX_OUTDEV, ATTR_PAYLOAD, ATTR_CAP_LEN = 5, 6, 10, 13
NF_DROP, NF_ACCEPT = 0, 1
SOL_NETLINK, NETLINK_NO_ENOBUFS, SO_RCVBUFFORCE = 270, 5, 33
SO_TIMESTAMP = 29  # asm-generic (x86, arm64); Python's socket module has no name for it
HOOK_FORWARD = 2
PROC_COUNTERS = Path("/proc/net/netfilter/nfnetlink_queue")

_NLMSG = struct.Struct("=IHHII")  # len, type, flags, seq, pid: host byte order
_NLMSG_LEN_TYPE = struct.Struct("=IH")  # the start of the same
_NFGEN = struct.Struct("!BBH")  # family, version, res_id (big-endian queue number)
_NLA = struct.Struct("=HH")  # nla_len, nla_type: host byte order
_VERDICT_HDR = struct.Struct("!II")
_PACKET_HDR = struct.Struct("!IHB")
_PARAMS = struct.Struct("!IB")
_BE32 = struct.Struct("!I")
_TIMESTAMP = struct.Struct("!QQ")  # seconds, microseconds
_NLA_TYPE_MASK = ~(0x8000 | 0x4000) & 0xFFFF  # NLA_F_NESTED, NLA_F_NET_BYTEORDER
_PACKET_TYPE = (NFNL_SUBSYS_QUEUE << 8) | MSG_PACKET


def _align(n: int) -> int:
    return (n + 3) & ~3


def attr(kind: int, payload: bytes) -> bytes:
    """One netlink attribute, padded to 4 bytes (nla_len excludes the padding)."""
    size = _NLA.size + len(payload)
    return _NLA.pack(size, kind) + payload + b"\0" * (_align(size) - size)


def message(
    msg: int,
    queue: int,
    attrs: bytes,
    *,
    seq: int = 0,
    flags: int = NLM_F_REQUEST,
    family: int = socket.AF_INET,
) -> bytes:
    """A nfnetlink_queue message: netlink header, nfgenmsg, attributes."""
    body = _NFGEN.pack(family, 0, queue) + attrs
    return _NLMSG.pack(_NLMSG.size + len(body), (NFNL_SUBSYS_QUEUE << 8) | msg, flags, seq, 0) + body


def config_cmd(queue: int, command: int, seq: int = 0) -> bytes:
    payload = struct.pack("!BBH", command, 0, socket.AF_INET)
    return message(MSG_CONFIG, queue, attr(CFG_CMD, payload), seq=seq, flags=NLM_F_REQUEST | NLM_F_ACK)


def config_params(queue: int, copy_range: int, mode: int = COPY_PACKET, seq: int = 0) -> bytes:
    return message(
        MSG_CONFIG,
        queue,
        attr(CFG_PARAMS, _PARAMS.pack(copy_range, mode)),
        seq=seq,
        flags=NLM_F_REQUEST | NLM_F_ACK,
    )


def config_maxlen(queue: int, maxlen: int, seq: int = 0) -> bytes:
    return message(
        MSG_CONFIG,
        queue,
        attr(CFG_QUEUE_MAXLEN, _BE32.pack(maxlen)),
        seq=seq,
        flags=NLM_F_REQUEST | NLM_F_ACK,
    )


def verdict(queue: int, packet_id: int, accept: bool, payload: bytes | None = None) -> bytes:
    """Accept or drop one packet; with ``payload``, the whole new IP packet replaces it."""
    if payload is None:  # the common case: only the last 8 bytes vary
        return _verdict_prefix(MSG_VERDICT, queue) + _VERDICT_HDR.pack(
            NF_ACCEPT if accept else NF_DROP, packet_id
        )
    attrs = attr(ATTR_VERDICT_HDR, _VERDICT_HDR.pack(NF_ACCEPT if accept else NF_DROP, packet_id))
    attrs += attr(ATTR_PAYLOAD, payload)
    return message(MSG_VERDICT, queue, attrs, family=socket.AF_UNSPEC)


@functools.lru_cache(maxsize=64)
def _verdict_prefix(msg: int, queue: int) -> bytes:
    """A payload-less verdict message up to its verdict header, the same for every packet."""
    return message(msg, queue, attr(ATTR_VERDICT_HDR, bytes(_VERDICT_HDR.size)), family=socket.AF_UNSPEC)[
        : -_VERDICT_HDR.size
    ]


def verdict_batch(queue: int, packet_id: int, accept: bool = True) -> bytes:
    """One verdict for every packet still queued with an id up to ``packet_id``."""
    return _verdict_prefix(MSG_VERDICT_BATCH, queue) + _VERDICT_HDR.pack(
        NF_ACCEPT if accept else NF_DROP, packet_id
    )


def accepts(queue: int, ids: list[int], oldest_held: float) -> list[bytes]:
    """Verdicts that accept ``ids`` unchanged, to send after every other pending verdict.

    A VERDICT_BATCH covers every queued id up to its own, so it takes only the ids
    below the oldest packet still held; the others get one verdict each.
    """
    if not ids:
        return []
    top = max(ids)
    if top < oldest_held:  # the usual case, the lines below in short
        return [verdict_batch(queue, top)] if len(ids) > 1 else [verdict(queue, top, True)]
    below = [i for i in ids if i < oldest_held]
    out = [verdict_batch(queue, max(below))] if len(below) > 1 else [verdict(queue, i, True) for i in below]
    return out + [verdict(queue, i, True) for i in ids if i >= oldest_held]


class Header(NamedTuple):
    length: int
    type: int
    flags: int
    seq: int
    pid: int


def messages(
    buf: bytes | bytearray | memoryview, size: int | None = None
) -> Iterator[tuple[Header, memoryview]]:
    """Split a receive buffer into (header, body) pairs; a body starts after the header."""
    view = memoryview(buf)[: len(buf) if size is None else size]
    offset = 0
    while offset + _NLMSG.size <= len(view):
        header = Header(*_NLMSG.unpack_from(view, offset))
        if header.length < _NLMSG.size or offset + header.length > len(view):
            raise ValueError(
                f"netlink message length must be between 16 and {len(view) - offset}, not {header.length}"
            )
        yield header, view[offset + _NLMSG.size : offset + header.length]
        offset += _align(header.length)


def attributes(body: memoryview) -> dict[int, memoryview]:
    """The attributes of a nfnetlink message body (after its 4-byte nfgenmsg), by type."""
    out = {}
    offset = _NFGEN.size
    while offset + _NLA.size <= len(body):
        size, kind = _NLA.unpack_from(body, offset)
        if size < _NLA.size:
            raise ValueError(f"netlink attribute length must be at least 4, not {size}")
        out[kind & _NLA_TYPE_MASK] = body[offset + _NLA.size : offset + size]
        offset += _align(size)
    return out


def error_code(body: memoryview) -> int:
    """The errno of an NLMSG_ERROR body (0 for an ACK)."""
    return -struct.unpack_from("=i", body)[0]


class Queued(NamedTuple):
    """A packet the kernel queued to us (a NamedTuple: one is made for every packet).

    ``stamp``: when the kernel received it (NFQA_TIMESTAMP, seconds of the real-time
    clock), 0.0 when the kernel sent none (see ``enable_timestamps``).
    """

    id: int
    hook: int
    indev: int
    outdev: int
    payload: bytes
    truncated: bool
    stamp: float = 0.0


def parse_packet(body: memoryview | bytes | bytearray, start: int = 0, end: int | None = None) -> Queued:
    """A PACKET message's body: the attributes the engine needs, read in one pass.

    ``body[start:end]`` is the body (after the netlink header), so ``receive`` can parse
    straight from its buffer without making a view of each message.
    """
    packet_id = hook = indev = outdev = 0
    payload, truncated, stamp = b"", False, 0.0
    nla = _NLA.unpack_from  # a local name: this loop runs some six times per packet
    offset = start + _NFGEN.size
    last = (len(body) if end is None else end) - _NLA.size  # the last offset a header fits
    while offset <= last:
        size, kind = nla(body, offset)
        if size < 4:
            raise ValueError(f"netlink attribute length must be at least 4, not {size}")
        kind &= _NLA_TYPE_MASK
        if kind == ATTR_PAYLOAD:
            payload = bytes(body[offset + 4 : offset + size])
        elif kind <= ATTR_IFINDEX_OUTDEV:  # one test skips the others (hwaddr, skb info...)
            if kind == ATTR_PACKET_HDR:
                packet_id, _hw, hook = _PACKET_HDR.unpack_from(body, offset + 4)
            elif kind == ATTR_IFINDEX_INDEV:
                indev = _BE32.unpack_from(body, offset + 4)[0]
            elif kind == ATTR_IFINDEX_OUTDEV:
                outdev = _BE32.unpack_from(body, offset + 4)[0]
            elif kind == ATTR_TIMESTAMP:
                sec, usec = _TIMESTAMP.unpack_from(body, offset + 4)
                stamp = sec + usec / 1e6
        elif kind == ATTR_CAP_LEN:
            truncated = True
        offset += (size + 3) & ~3
    return new_tuple(Queued, (packet_id, hook, indev, outdev, payload, truncated, stamp))


def enable_timestamps() -> socket.socket | None:
    """Make the kernel stamp every packet it receives, so that NFQUEUE passes the stamp.

    The kernel sends NFQA_TIMESTAMP only for packets that carry a receive timestamp, and
    stamps received packets only while some socket on the host asks for timestamps (a
    global switch): measured on this project's kernel 6.18, a forwarded packet has none
    until a socket sets SO_TIMESTAMP, then every one has it. Keep the socket open as long
    as the stamps are wanted; None if the kernel refuses.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMP, 1)
    except OSError:
        sock.close()
        return None
    return sock


class Queue:
    """One bound NFQUEUE: receive many packets per call, send many verdicts per call."""

    def __init__(self, number: int, maxlen: int = 8192, rcvbuf: int = 16 << 20) -> None:
        self.number = number
        self.enobufs = 0  # times the socket buffer overflowed (the kernel dropped packets)
        self.errors: Counter[int] = Counter()  # errnos the kernel answered to verdicts
        self._seq = 0
        self._early: deque[Queued] = deque()
        self._buf = bytearray(1 << 18)
        self._stamps = enable_timestamps()
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
        try:
            self.sock.bind((0, 0))
            self._grow_rcvbuf(rcvbuf)
            self._request(config_cmd(number, CMD_BIND, self._next_seq()))
            self._request(config_params(number, 0xFFFF, COPY_PACKET, self._next_seq()))
            self._request(config_maxlen(number, maxlen, self._next_seq()))
        except BaseException:
            self.close_stamps()
            self.sock.close()
            raise
        self.sock.setblocking(False)

    def _grow_rcvbuf(self, size: int) -> None:
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, size)
        except PermissionError:  # without CAP_NET_ADMIN: as much as rmem_max allows
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _request(self, data: bytes) -> None:
        """Send a request with NLM_F_ACK set; raise OSError if the kernel refuses it."""
        seq = _NLMSG.unpack_from(data)[3]
        self.sock.send(data)
        while True:
            size = self.sock.recv_into(self._buf)
            for header, body in messages(self._buf, size):
                if header.type == NLMSG_ERROR and header.seq == seq:
                    code = error_code(body)
                    if code:
                        raise OSError(
                            code,
                            f"NFQUEUE config of queue {self.number} refused: "
                            f"{errno.errorcode.get(code, code)}",
                        )
                    return
                if header.type == _PACKET_TYPE:
                    self._early.append(parse_packet(body))

    def fileno(self) -> int:
        return self.sock.fileno()

    def receive(self, limit: int = 512) -> list[Queued]:
        """Up to ``limit`` queued packets without blocking; ENOBUFS is counted, not raised."""
        out: list[Queued] = []
        if self._early:  # packets that came while configuring
            out += self._early
            self._early.clear()
        recv_into, buf = self.sock.recv_into, self._buf
        while len(out) < limit:
            try:
                size = recv_into(buf)
            except BlockingIOError:
                break
            except OSError as exc:
                if exc.errno != errno.ENOBUFS:
                    raise
                self.enobufs += 1
                continue
            # The kernel sends each packet in a datagram of its own: parse that at once.
            length, kind = _NLMSG_LEN_TYPE.unpack_from(buf)
            if kind == _PACKET_TYPE and length == size >= _NLMSG.size:
                out.append(parse_packet(buf, _NLMSG.size, size))
                continue
            for header, body in messages(buf, size):  # anything else (an error report): rare
                if header.type == _PACKET_TYPE:
                    out.append(parse_packet(body))
                elif header.type == NLMSG_ERROR and (code := error_code(body)):
                    self.errors[code] += 1
        return out

    def send(self, data: bytes) -> None:
        """Send concatenated verdict messages (the kernel handles each in turn)."""
        self.sock.send(data)

    def close(self) -> None:
        """Unbind (the kernel drops whatever is still queued) and close."""
        try:
            self.sock.setblocking(True)
            self.sock.send(config_cmd(self.number, CMD_UNBIND))
        except OSError as exc:
            self.errors[exc.errno or 0] += 1
        self.sock.close()
        self.close_stamps()

    def close_stamps(self) -> None:
        if self._stamps is not None:
            self._stamps.close()
            self._stamps = None


class Injector:
    """Sends whole IPv4 packets as they are (IPPROTO_RAW implies IP_HDRINCL): duplicates."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        self.failed: Counter[int] = Counter()

    def send(self, packet: bytes) -> bool:
        try:
            self.sock.sendto(packet, (socket.inet_ntoa(packet[16:20]), 0))
        except OSError as exc:
            self.failed[exc.errno or 0] += 1
            return False
        return True

    def close(self) -> None:
        self.sock.close()


def counters(queue: int, path: Path = PROC_COUNTERS) -> dict[str, int]:
    """The kernel's overload counters for ``queue``: queue_dropped and user_dropped."""
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return {}
    for line in lines:
        f = line.split()
        if len(f) >= 8 and int(f[0]) == queue:
            return {
                "queue_total": int(f[2]),
                "queue_dropped": int(f[5]),
                "user_dropped": int(f[6]),
                "id_sequence": int(f[7]),
            }
    return {}
