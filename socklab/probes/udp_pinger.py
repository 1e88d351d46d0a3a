"""Lab 2's hands inside the lab containers: UDP datagrams. Stdlib only, prints JSON.

It runs as the container's root user (no capabilities) and reports what it observed
on the wire; the checker on the host judges.

  udp_pinger.py echo       --port P [--timeout S] [--strays-after SEQ]
  udp_pinger.py datagrams  --host H --port P --seed S [--wait S]
  udp_pinger.py clients    --host H --port P [--clients K] [--rounds R] [--wait S]

``echo`` is the checker's echo server for the student's pinger: it prints
``{"listening": P}``, sends every datagram back to its sender and notes each one (time,
sender, bytes) until a line or the end arrives on its stdin (or ``--timeout``), then
prints what it received. With ``--strays-after SEQ``, once it has answered ping SEQ it
sends that reply again every STRAY_EVERY s until the next request comes (a late copy, as a
network may deliver): a pinger waiting for a lost ping must not take them for its reply,
nor wait a fresh second after each. ``datagrams`` sends awkward datagrams one at a time
(a ping, one byte, an empty one, all 256 byte values, sizes around common buffers up to
65507 bytes, seeded) and waits for each one's echo, noting anything else that comes.
``clients`` sends from several sockets in interleaved rounds, after a client that sends
and vanishes, and notes which socket got which reply from where.
"""

from __future__ import annotations

import argparse
import json
import random
import selectors
import socket
import sys
import time

MAX_DATAGRAM = 65535


def text(data: bytes, limit: int = 120) -> str:
    """Bytes as JSON can carry them (one character per byte), cut at ``limit``."""
    return data[:limit].decode("latin-1")


RECORDS = 1000  # datagrams noted at the most (a pinger sends tens): a flood is counted, not kept
STRAY_EVERY = 0.25  # seconds between the late copies of a reply
STRAYS = 12  # copies at most: 3 s of them


def echo(args: argparse.Namespace) -> dict:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("", args.port))
    print(json.dumps({"listening": args.port}), flush=True)
    sel = selectors.DefaultSelector()
    sel.register(sock, selectors.EVENT_READ)
    sel.register(sys.stdin, selectors.EVENT_READ)
    received: list[dict] = []
    sent, start = [], time.monotonic()
    unrecorded = 0  # datagrams past RECORDS: echoed, counted, not noted
    stray: tuple[bytes, tuple[str, int]] | None = None  # the reply to send again, and to whom
    strays, next_stray = 0, 0.0
    while (left := start + args.timeout - time.monotonic()) > 0:
        if stray is not None:
            left = min(left, max(next_stray - time.monotonic(), 0.0))
        ready = [key.fileobj for key, _ in sel.select(left)]
        if sock in ready:
            data, peer = sock.recvfrom(MAX_DATAGRAM)
            sock.sendto(data, peer)
            if len(received) >= RECORDS:
                unrecorded += 1
                continue
            sent.append("reply")
            received.append(
                {
                    "t": round(time.monotonic(), 6),
                    "wall": round(time.time(), 6),
                    "peer": f"{peer[0]}:{peer[1]}",
                    "size": len(data),
                    "text": text(data),
                }
            )
            stray = None
            if (
                args.strays_after is not None
                and data.startswith(f"PING {args.strays_after} ".encode())
                and not strays
            ):
                stray, next_stray = (data, peer), time.monotonic() + STRAY_EVERY
        elif stray is not None and time.monotonic() >= next_stray:
            sock.sendto(*stray)
            sent.append("stray")
            strays += 1
            next_stray += STRAY_EVERY
            if strays >= STRAYS:
                stray = None
        if sys.stdin in ready:
            break
    return {"received": received, "sent": sent, "unrecorded": unrecorded}


SIZES = [
    (1023, 1024, 1025),
    (4095, 4096, 4097),
    (8192,),
    (8193, 8200, 9000),
    (16385, 32769),
    (65507,),
]  # around common buffer sizes, up to the largest datagram


def awkward(seed: int) -> list[tuple[str, bytes]]:
    rng = random.Random(seed)
    sizes = [rng.choice(group) for group in SIZES] + [rng.randint(9001, 65506)]
    rng.shuffle(sizes)
    blanks = [b" ", b"  ", b"\t", b"\n", b"\r\n"]  # what strip() takes away, at both ends
    framed = rng.choice(blanks) + f"PING {rng.randint(3, 99)} 1700000002.5".encode() + rng.choice(blanks)
    lines = "\n".join(rng.sample(["héllo, wörld", "世界 → データ", "  indented\tline ", "🙂"], 3))
    return [
        ("a ping", b"PING 1 1700000000.123456"),
        ("the same ping again (a datagram repeated is a new one)", b"PING 1 1700000000.123456"),
        ("one byte", b"x"),
        ("an empty datagram", b""),
        ("another empty datagram", b""),
        (f"a ping with whitespace at both ends {framed!r}", framed),
        ("several lines of multi-byte UTF-8 text, ending in a newline", (lines + "\n").encode()),
        ("all 256 byte values (not text)", bytes(range(256))),
        ("all 256 byte values, backwards (the last one NUL)", bytes(range(255, -1, -1))),
        *((f"{size} random bytes", rng.randbytes(size)) for size in sizes),
        ("a ping after all that", b"PING 2 1700000001.654321"),
    ]


def await_echo(sock: socket.socket, sent: bytes | None, wait: float) -> dict:
    """Wait up to ``wait`` s for ``sent`` to come back; note anything else that came."""
    seen: dict = {"echoed": False, "from": None, "others": []}
    deadline = time.monotonic() + wait
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            data, peer = sock.recvfrom(MAX_DATAGRAM)
        except TimeoutError:
            break
        if data == sent:
            seen.update(echoed=True, **{"from": f"{peer[0]}:{peer[1]}"})
            break
        if len(seen["others"]) >= RECORDS:
            continue  # a flood: enough of it noted
        seen["others"].append({"size": len(data), "text": text(data, 40), "from": f"{peer[0]}:{peer[1]}"})
    return seen


def datagrams(args: argparse.Namespace) -> dict:
    server = (socket.gethostbyname(args.host), args.port)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    results, missed = [], 0
    for name, data in awkward(args.seed):
        if missed >= 2:  # the server stopped answering: no need to wait for the rest
            results.append({"name": name, "size": len(data), "sent": False})
            continue
        sock.sendto(data, server)
        seen = await_echo(sock, data, args.wait)
        missed = 0 if seen["echoed"] else missed + 1
        results.append({"name": name, "size": len(data), "sent": True, **seen})
    after = await_echo(sock, None, 0.3)["others"]  # a last echo sent twice, late
    return {"server": f"{server[0]}:{server[1]}", "datagrams": results, "after": after}


def clients(args: argparse.Namespace) -> dict:
    server = (socket.gethostbyname(args.host), args.port)
    vanished = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    vanished.sendto(b"PING 1 0.0 (a client that leaves at once)", server)
    vanished.close()  # its echo meets a closed port: the server gets an ICMP error back
    socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(args.clients)]
    sel = selectors.DefaultSelector()
    for i, sock in enumerate(socks):
        sel.register(sock, selectors.EVENT_READ, i)
    got: list[list[dict]] = [[] for _ in socks]
    rounds = []
    for r in range(1, args.rounds + 1):
        sent = [f"client {i + 1} round {r}".encode() for i in range(len(socks))]
        for sock, data in zip(socks, sent, strict=True):
            sock.sendto(data, server)
        deadline = time.monotonic() + args.wait
        while (left := deadline - time.monotonic()) > 0 and not all(
            any(g["text"] == s.decode() for g in got[i]) for i, s in enumerate(sent)
        ):
            for key, _ in sel.select(left):
                data, peer = socks[key.data].recvfrom(MAX_DATAGRAM)
                if len(got[key.data]) >= RECORDS:
                    continue  # a flood: enough of it noted
                got[key.data].append({"text": text(data, 60), "from": f"{peer[0]}:{peer[1]}", "round": r})
        rounds.append([s.decode() for s in sent])
    return {"server": f"{server[0]}:{server[1]}", "sent": rounds, "got": got}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="udp_pinger.py")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("echo")
    serve.add_argument("--port", type=int, required=True)
    serve.add_argument("--timeout", type=float, default=60.0)
    serve.add_argument("--strays-after", type=int, help="send late copies of this ping's reply")
    send = sub.add_parser("datagrams")
    crowd = sub.add_parser("clients")
    for p in (send, crowd):
        p.add_argument("--host", required=True)
        p.add_argument("--port", type=int, required=True)
        p.add_argument("--wait", type=float, default=2.0, help="seconds to wait for an echo")
    send.add_argument("--seed", type=int, default=1)
    crowd.add_argument("--clients", type=int, default=3)
    crowd.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    handler = {"echo": echo, "datagrams": datagrams, "clients": clients}[args.command]
    print(json.dumps(handler(args)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
