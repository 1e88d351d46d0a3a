"""Lab 8 sender, selective repeat: a timer per packet, only the late one is sent again.

Design: every packet in flight has its own deadline in a heap; when one runs out, that
packet alone is sent again (with its own exponential back-off), never the whole window.
The timeout is measured (RFC 6298: srtt, rttvar, rto = srtt + 4 rttvar, at least 30 ms),
timing only packets sent once (Karn). Three duplicate ACKs send the oldest packet again
at once (fast retransmit). The socket is non-blocking and waited on with ``selectors``.
Window 64 in window mode; stop-and-wait is the same machine with a window of 1.

Usage: python3 sender.py --mode stop-and-wait|window HOST PORT FILE
"""

import argparse
import contextlib
import heapq
import selectors
import socket
import sys
import time

from rdt import ACK, DATA, FIN, MAX_PAYLOAD, pack, unpack

WINDOW = 64
FIN_PATIENCE = 5.0


class Link:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.sel = selectors.DefaultSelector()
        self.sel.register(sock, selectors.EVENT_READ)
        self.srtt: float | None = None
        self.rttvar = 0.0
        self.rto = 0.1

    def send(self, packet: bytes) -> None:
        # an earlier packet's ICMP error, or a full buffer: a loss like any other
        with contextlib.suppress(ConnectionRefusedError, BlockingIOError):
            self.sock.send(packet)

    def acks(self, timeout: float) -> list[int]:
        """The numbers of the sound ACKs that arrive within ``timeout``."""
        out: list[int] = []
        if not self.sel.select(max(timeout, 0.001)):
            return out
        while True:
            try:
                raw = self.sock.recv(4096)
            except (BlockingIOError, ConnectionRefusedError):
                return out
            got = unpack(raw)
            if got is not None and got[0] == ACK:
                out.append(got[1])

    def sample(self, rtt: float) -> None:
        if self.srtt is None:
            self.srtt, self.rttvar = rtt, rtt / 2
        else:
            self.rttvar = 0.75 * self.rttvar + 0.25 * abs(self.srtt - rtt)
            self.srtt = 0.875 * self.srtt + 0.125 * rtt
        self.rto = min(0.5, max(0.03, self.srtt + 4 * self.rttvar))  # R7: 0.5 s at most

    def transfer(self, packets: list[bytes], first: int, window: int,
                 patience: float | None = None) -> bool:
        end = first + len(packets)
        base = nxt = first
        sent_at: dict[int, float] = {}
        tries: dict[int, int] = {}
        deadline: dict[int, float] = {}
        timers: list[tuple[float, int]] = []
        dup = 0
        progress = time.monotonic()

        def emit(n: int) -> None:
            now = time.monotonic()
            self.send(packets[n - first])
            tries[n] = tries.get(n, 0) + 1
            sent_at[n] = now
            # backing off doubles the wait, never past R7's 0.5 s
            deadline[n] = now + min(self.rto * 2 ** min(tries[n] - 1, 4), 0.5)
            heapq.heappush(timers, (deadline[n], n))

        while base < end:
            while nxt < end and nxt < base + window:
                emit(nxt)
                nxt += 1
            while timers and (timers[0][1] < base or timers[0][0] != deadline[timers[0][1]]):
                heapq.heappop(timers)  # acknowledged, or superseded by a later send
            now = time.monotonic()
            if patience is not None and now - progress >= patience:
                return False
            if timers and timers[0][0] <= now:
                emit(heapq.heappop(timers)[1])  # this packet alone
                continue
            wait = timers[0][0] - now if timers else 0.05
            for ack in self.acks(wait):
                if base < ack <= nxt:
                    if tries.get(ack - 1) == 1:
                        self.sample(time.monotonic() - sent_at[ack - 1])
                    base, dup, progress = ack, 0, time.monotonic()
                elif ack == base and base < nxt:
                    dup += 1
                    if dup == 3:
                        emit(base)
        return True


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=("stop-and-wait", "window"), default="window")
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("file")
    args = parser.parse_args()
    with open(args.file, "rb") as f:
        data = f.read()
    packets = [pack(DATA, i // MAX_PAYLOAD, data[i:i + MAX_PAYLOAD])
               for i in range(0, len(data), MAX_PAYLOAD)]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.connect((args.host, args.port))
    sock.setblocking(False)
    link = Link(sock)
    link.transfer(packets, 0, 1 if args.mode == "stop-and-wait" else WINDOW)
    ok = link.transfer([pack(FIN, len(packets))], len(packets), 1, FIN_PATIENCE)
    sock.close()
    if not ok:
        print(f"no ACK for the FIN in {FIN_PATIENCE} s", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
