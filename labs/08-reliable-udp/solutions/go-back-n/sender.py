"""Lab 8 sender, go-back-N: on a timeout, the whole window is sent again.

Design: the textbook go-back-N sender with the smallest window the README allows (8)
and one timer, for the oldest unacknowledged packet, with a fixed 100 ms timeout. When
it runs out, every packet in flight (base .. next-1) is sent again, in order, and the
timer restarts. Cumulative ACKs move the base. No fast retransmit, no RTT measurement.
Stop-and-wait is the same loop with a window of 1.

Usage: python3 sender.py --mode stop-and-wait|window HOST PORT FILE
"""

import argparse
import contextlib
import socket
import sys
import time

from rdt import ACK, DATA, FIN, MAX_PAYLOAD, pack, unpack

TIMEOUT = 0.1
WINDOW = 8
FIN_PATIENCE = 5.0


def send(sock: socket.socket, packet: bytes) -> None:
    # a refusal is the ICMP error of an earlier packet: the receiver is not up yet
    with contextlib.suppress(ConnectionRefusedError):
        sock.send(packet)


def wait_ack(sock: socket.socket, until: float) -> int | None:
    """The number of one sound ACK that arrives before ``until``, else None."""
    while True:
        left = until - time.monotonic()
        if left <= 0:
            return None
        sock.settimeout(max(left, 0.001))
        try:
            raw = sock.recv(2048)
        except (TimeoutError, ConnectionRefusedError):
            continue
        got = unpack(raw)
        if got is not None and got[0] == ACK:
            return got[1]


def go_back_n(sock: socket.socket, packets: list[bytes], first: int, window: int,
              patience: float | None = None) -> bool:
    base, nxt, end = first, first, first + len(packets)
    timer = 0.0
    progress = time.monotonic()
    while base < end:
        while nxt < end and nxt < base + window:
            send(sock, packets[nxt - first])
            if nxt == base:
                timer = time.monotonic() + TIMEOUT
            nxt += 1
        ack = wait_ack(sock, timer)
        now = time.monotonic()
        if ack is None:
            if patience is not None and now - progress >= patience:
                return False
            for n in range(base, nxt):  # go back N: the whole window again
                send(sock, packets[n - first])
            timer = now + TIMEOUT
        elif base < ack <= nxt:
            base, progress = ack, now
            timer = now + TIMEOUT  # restart for the new oldest packet
    return True


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=("stop-and-wait", "window"), required=True)
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("file")
    args = parser.parse_args()
    window = 1 if args.mode == "stop-and-wait" else WINDOW
    packets = []
    with open(args.file, "rb") as f:
        while chunk := f.read(MAX_PAYLOAD):
            packets.append(pack(DATA, len(packets), chunk))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.connect((args.host, args.port))
        go_back_n(sock, packets, 0, window)
        if not go_back_n(sock, [pack(FIN, len(packets))], len(packets), 1, FIN_PATIENCE):
            print("the receiver never acknowledged the FIN", file=sys.stderr)
            return 1
    print(f"sent {len(packets)} packets, {args.mode}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
