"""Lab 8: send a file reliably over UDP.

Usage: python3 sender.py --mode stop-and-wait|window HOST PORT FILE

Read the lab's README.md first. main() is written; deliver() and receive() are yours.
"""

import argparse
import socket
import time
from collections import Counter

from rdt import ACK, DATA, FIN, MAX_PAYLOAD, pack, unpack  # noqa: F401 (yours to use)

WINDOW = 32  # packets in flight in window mode
FIN_PATIENCE = 5.0  # seconds without an answer to the FIN before giving up on the receiver


class Sender:
    def __init__(self, sock: socket.socket, window: int) -> None:
        self.sock, self.window = sock, window
        self.rto = 0.1  # seconds before a packet is sent again (README, hints: measure it)
        self.count: Counter[str] = Counter()

    def deliver(self, packets: list[bytes], first: int, patience: float | None = None) -> bool:
        """Send ``packets`` (numbered from ``first``) until an ACK covers them all.

        False if ``patience`` seconds pass with nothing acknowledged.
        """
        # TODO: keep `base`, the oldest packet not yet acknowledged, and `next_seq`, the next
        #       one never sent. Loop while base < first + len(packets):
        #   - send new packets while next_seq < base + self.window (self.send());
        #   - wait for an ACK with self.receive(), no longer than until the oldest packet's
        #     timer runs out (it was sent self.rto seconds ago);
        #   - an ACK asking for n, with base < n <= next_seq, acknowledges every packet
        #     before n: base = n. Any other ACK (old, copied) changes nothing;
        #   - when the oldest packet in flight was sent self.rto seconds ago or more and is
        #     still unacknowledged, send it again.
        #   With patience: return False once that long passed without base moving.
        raise NotImplementedError("deliver() is not written yet")

    def send(self, packet: bytes) -> None:
        try:
            self.sock.send(packet)
        except ConnectionRefusedError:  # an ICMP "port unreachable" came back for an earlier one
            self.count["refused"] += 1
        self.count["sent"] += 1

    def receive(self, timeout: float) -> int | None:
        """The number an ACK asks for next, or None if none came within ``timeout``."""
        # TODO: settimeout() (at least 0.001: a timeout of 0 makes the socket non-blocking),
        #       recv(); on TimeoutError or ConnectionRefusedError return None. unpack() the
        #       packet: a damaged one, or one that is not an ACK, is as good as lost (None).
        raise NotImplementedError("receive() is not written yet")


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
          f"{time.monotonic() - start:.2f} s: {c['sent']} sent, {c['retransmitted']} again",
          flush=True)
    if not done:
        print(f"no answer to the FIN for {FIN_PATIENCE:g} s: giving up", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
