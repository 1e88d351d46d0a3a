"""Lab 8 reference: send a file reliably over UDP.

Usage: python3 sender.py --mode stop-and-wait|window HOST PORT FILE

The file goes out in numbered data packets; each is sent again until an acknowledgement
covers it. Stop-and-wait keeps one packet in flight, window mode up to WINDOW. Then the
end-of-file packet, acknowledged like the others.
"""

import argparse
import socket
import time
from collections import Counter

from rdt import ACK, DATA, FIN, MAX_PAYLOAD, pack, unpack

WINDOW = 32  # packets in flight in window mode
FIN_PATIENCE = 5.0  # seconds without an answer to the FIN before giving up on the receiver
MIN_RTO, MAX_RTO = 0.05, 0.5  # R7: the timeout is at most 0.5 s


class Timer:
    """The retransmission timeout, from measured round trips (RFC 6298's estimator)."""

    def __init__(self) -> None:
        self.srtt: float | None = None
        self.rttvar = 0.0
        self.rto = 0.65  # before the first measurement

    def sample(self, rtt: float) -> None:
        if self.srtt is None:
            self.srtt, self.rttvar = rtt, rtt / 2
        else:
            self.rttvar = 0.75 * self.rttvar + 0.25 * abs(self.srtt - rtt)
            self.srtt = 0.875 * self.srtt + 0.125 * rtt
        self.rto = 0.65


class Sender:
    def __init__(self, sock: socket.socket, window: int) -> None:
        self.sock, self.window = sock, window
        self.timer = Timer()
        self.timed: tuple[int, float] | None = None  # the packet being timed, sent when
        self.count: Counter[str] = Counter()

    def deliver(self, packets: list[bytes], first: int, patience: float | None = None) -> bool:
        """Send ``packets`` (numbered from ``first``) until an ACK covers them all.

        False if ``patience`` seconds pass with nothing acknowledged.
        """
        base = next_seq = first  # base: the oldest packet not yet acknowledged
        end = first + len(packets)
        sent: dict[int, float] = {}  # each packet in flight: when it was last sent
        progress = time.monotonic()
        repeats = 0  # ACKs asking again for `base`
        while base < end:
            while next_seq < min(base + self.window, end):
                self.send(packets[next_seq - first], next_seq, sent)
                if self.timed is None:  # time one packet's round trip at a time
                    self.timed = (next_seq, sent[next_seq])
                next_seq += 1
            ack = self.receive(sent[base] + self.timer.rto - time.monotonic())
            now = time.monotonic()
            if ack is not None and base < ack <= next_seq:  # cumulative: all before ack arrived
                if self.timed is not None and self.timed[0] < ack:
                    self.timer.sample(now - self.timed[1])
                    self.timed = None
                for seq in range(base, ack):
                    del sent[seq]
                base, progress, repeats = ack, now, 0
            elif patience is not None and now - progress > patience:
                return False
            elif ack == base:
                repeats += 1  # later packets arrived and `base` did not: lost, most likely
                if repeats == 3:  # TCP's fast retransmit, once per gap: no need to wait
                    self.resend(packets[base - first], base, sent)
            # One timer, on the oldest packet in flight, as TCP has: the receiver keeps what
            # came after a gap, so once the gap is filled its ACK jumps past all of it.
            if base < next_seq and now - sent[base] >= self.timer.rto:
                self.resend(packets[base - first], base, sent)
        return True

    def resend(self, packet: bytes, seq: int, sent: dict[int, float]) -> None:
        self.timed = None  # Karn: an ACK after a loss times the loss, not the path
        self.send(packet, seq, sent)
        self.count["retransmitted"] += 1

    def send(self, packet: bytes, seq: int, sent: dict[int, float]) -> None:
        try:
            self.sock.send(packet)
        except ConnectionRefusedError:  # an ICMP "port unreachable" came back for an earlier one
            self.count["refused"] += 1
        sent[seq] = time.monotonic()
        self.count["sent"] += 1

    def receive(self, timeout: float) -> int | None:
        """The number an ACK asks for next, or None if none came within ``timeout``."""
        self.sock.settimeout(max(timeout, 0.001))  # 0 would mean non-blocking
        try:
            packet = self.sock.recv(65535)
        except TimeoutError:
            return None
        except ConnectionRefusedError:  # an ICMP "port unreachable": no receiver (yet, or now)
            self.count["refused"] += 1
            return None
        parsed = unpack(packet)
        if parsed is None or parsed[0] != ACK:
            self.count["damaged"] += 1
            return None
        return parsed[1]


def main() -> int:
    parser = argparse.ArgumentParser(description="Send a file reliably over UDP.")
    parser.add_argument("--mode", choices=("stop-and-wait", "window"), default="window")
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("file")
    args = parser.parse_args()
    with open(args.file, "rb") as f:
        data = f.read()
    chunks = [data[i:i + MAX_PAYLOAD] for i in range(0, len(data), MAX_PAYLOAD)]
    packets = [pack(DATA, seq, chunk) for seq, chunk in enumerate(chunks)]
    start = time.monotonic()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.connect((args.host, args.port))  # send() and recv() talk to the receiver only
        sender = Sender(sock, 1 if args.mode == "stop-and-wait" else WINDOW)
        sender.deliver(packets, 0)
        done = sender.deliver([pack(FIN, len(packets))], len(packets), patience=FIN_PATIENCE)
    c = sender.count
    print(f"{len(data)} bytes in {len(packets)} packets, {args.mode}, "
          f"{time.monotonic() - start:.2f} s: {c['sent']} sent, {c['retransmitted']} again, "
          f"{c['damaged']} damaged or stray packets dropped; timeout {sender.timer.rto * 1000:.0f} ms",
          flush=True)
    if not done:
        print(f"no answer to the FIN for {FIN_PATIENCE:g} s: giving up", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
