"""The TCP vs UDP demonstration's hands inside the lab containers: stdlib only.

  demo.py tcp-recv --port P --size N --seed S [--timeout S] [--cc NAME]
  demo.py tcp-send --host H --port P --size N --seed S [--timeout S] [--cc NAME]
  demo.py cc-info

The sender writes ``size`` seeded bytes, half-closes and waits for the receiver's close
(everything acknowledged and read), within ``timeout``; it reports its kernel's TCP
retransmissions (``RetransSegs`` of ``/proc/net/snmp``, of its container's network
namespace) over the transfer, the congestion control its socket used, its MSS
(``TCP_MAXSEG``) and the round-trip times its kernel measured (``TCP_INFO``). The
receiver reports the bytes it read, their SHA-256, and how many of them are the
expected bytes in order. ``--cc`` sets the socket's congestion control
(``TCP_CONGESTION``; the receiver's listening socket passes it on to the accepted one).
``cc-info`` reports what the kernel offers: its default, the algorithms any user may
choose (allowed) and those loaded (available). Each prints one JSON object (the
receiver first prints ``{"listening": P}``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import socket
import struct
import sys
import time

PROC = "/proc/sys/net/ipv4/tcp_"
# struct tcp_info (linux/tcp.h): byte offsets of the __u32 fields read here
TCP_INFO_LEN, SRTT_AT, MIN_RTT_AT = 232, 68, 148


def data(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


def retransmissions() -> int:
    with open("/proc/net/snmp") as snmp:
        names, values = (line.split() for line in snmp if line.startswith("Tcp:"))
    return int(values[names.index("RetransSegs")])


def cc_info() -> dict:
    """The kernel's congestion controls: default, allowed without privilege, available."""

    def read(name: str) -> str:
        with open(PROC + name) as f:
            return f.read().strip()

    return {
        "default": read("congestion_control"),
        "allowed": read("allowed_congestion_control").split(),
        "available": read("available_congestion_control").split(),
    }


def set_cc(sock: socket.socket, name: str | None) -> None:
    if name:
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, name.encode())
        except OSError as exc:  # the host checks cc-info first: this is the last word
            raise SystemExit(f"demo.py: cannot set congestion control {name!r}: {exc}") from None


def path_facts(sock: socket.socket) -> dict:
    """The connected socket's congestion control, MSS and RTTs (µs: smoothed, minimum)."""
    cc = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, 16)
    info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, TCP_INFO_LEN)
    srtt = struct.unpack_from("I", info, SRTT_AT)[0]
    min_rtt = struct.unpack_from("I", info, MIN_RTT_AT)[0] if len(info) >= MIN_RTT_AT + 4 else srtt
    return {
        "cc": cc.split(b"\0", 1)[0].decode(),
        "mss": sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG),
        "srtt_us": srtt,
        "min_rtt_us": min_rtt,
    }


def matching_prefix(expected: bytes, got: bytes) -> int:
    """How many leading bytes of ``got`` are ``expected``'s."""
    n = min(len(expected), len(got))
    if got[:n] == expected[:n]:
        return n
    lo, hi = 0, n  # the first difference, by bisection on equal prefixes
    while lo < hi:
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if got[:mid] == expected[:mid] else (lo, mid - 1)
    return lo


def tcp_recv(args: argparse.Namespace) -> dict:
    """Accept one sender, read to EOF (or the timeout), then close."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    set_cc(listener, args.cc)
    listener.bind(("", args.port))
    listener.listen()
    listener.settimeout(args.timeout)
    print(json.dumps({"listening": args.port}), flush=True)
    got, error = bytearray(), None
    try:
        conn, _ = listener.accept()
    except TimeoutError:
        return {
            "error": f"no sender within {args.timeout} s",
            "received": 0,
            "in_order": 0,
            "sha256": hashlib.sha256(b"").hexdigest(),
        }
    cc = path_facts(conn)["cc"]
    deadline = time.monotonic() + args.timeout
    try:
        while (left := deadline - time.monotonic()) > 0:
            conn.settimeout(left)
            chunk = conn.recv(65536)
            if not chunk:
                break
            got += chunk
        else:
            error = f"timed out after {args.timeout} s"
    except OSError as exc:  # a timeout, or the sender gave up (reset)
        error = f"{type(exc).__name__}: {exc}"
    conn.close()
    return {
        "error": error,
        "cc": cc,
        "received": len(got),
        "sha256": hashlib.sha256(got).hexdigest(),
        "in_order": matching_prefix(data(args.size, args.seed), bytes(got)),
    }


def tcp_send(args: argparse.Namespace) -> dict:
    """Send the data, half-close, wait for the receiver's close; give up at the timeout."""
    payload = data(args.size, args.seed)
    before = retransmissions()
    start = time.monotonic()
    deadline = start + args.timeout
    sent, finished, error, connected = 0, False, None, False
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    set_cc(sock, args.cc)
    try:
        sock.settimeout(args.timeout)
        sock.connect((args.host, args.port))
        connected = True
        view = memoryview(payload)
        while sent < len(payload):
            sock.settimeout(max(deadline - time.monotonic(), 0.001))
            sent += sock.send(view[sent : sent + 65536])
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(max(deadline - time.monotonic(), 0.001))
        finished = sock.recv(1) == b""  # the receiver read everything and closed
    except OSError as exc:
        error = f"{type(exc).__name__}: {exc}"
    elapsed = time.monotonic() - start
    facts = path_facts(sock) if connected else {}
    if not finished:  # stop at once: a reset, not minutes of retransmitting
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()
    return {
        "error": error,
        "finished": finished,
        "written": sent,
        "sha256": hashlib.sha256(payload).hexdigest(),
        "elapsed": round(elapsed, 4),
        "retransmissions": retransmissions() - before,
        **facts,
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="demo.py")
    sub = parser.add_subparsers(dest="command", required=True)
    recv, send = sub.add_parser("tcp-recv"), sub.add_parser("tcp-send")
    sub.add_parser("cc-info")
    send.add_argument("--host", required=True)
    for p in (recv, send):
        p.add_argument("--port", type=int, required=True)
        p.add_argument("--size", type=int, required=True)
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--timeout", type=float, default=30.0)
        p.add_argument("--cc", help="congestion control (TCP_CONGESTION); default: the kernel's")
    args = parser.parse_args(argv)
    if args.command == "cc-info":
        print(json.dumps(cc_info()), flush=True)
        return 0
    handler = {"tcp-recv": tcp_recv, "tcp-send": tcp_send}[args.command]
    print(json.dumps(handler(args)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
