"""Lab 8 sender: a dedicated stop-and-wait loop, and a threaded sliding window.

Design: ``--mode stop-and-wait`` is the classic sender written on its own, not as a
window of one: send packet n, wait for the ACK asking for n + 1, send n again on each
150 ms timeout. ``--mode window`` uses two threads: one only reads ACKs and moves the
base under a ``threading.Condition``; the main thread keeps up to 200 packets in
flight (a large window: allowed, "at least 8") and, TCP-style, sends only the *oldest*
unacknowledged packet again when it has waited 150 ms. The FIN goes the stop-and-wait
way in both modes.

Usage: python3 sender.py --mode stop-and-wait|window HOST PORT FILE
"""

import argparse
import socket
import sys
import threading
import time

from rdt import ACK, DATA, FIN, MAX_PAYLOAD, pack, unpack

TIMEOUT = 0.15
WINDOW = 200
FIN_PATIENCE = 5.0


def send(sock: socket.socket, packet: bytes) -> None:
    try:
        sock.send(packet)
    except ConnectionRefusedError:
        print("port unreachable (receiver not up yet?)", flush=True)


def stop_and_wait(sock: socket.socket, packet: bytes, seq: int,
                  patience: float | None = None) -> bool:
    """Send one packet until the ACK asking for seq + 1 comes."""
    started = time.monotonic()
    sock.settimeout(TIMEOUT)
    while True:
        send(sock, packet)
        resend_at = time.monotonic() + TIMEOUT
        while time.monotonic() < resend_at:
            sock.settimeout(max(0.001, resend_at - time.monotonic()))
            try:
                got = unpack(sock.recv(2048))
            except TimeoutError:
                continue
            except ConnectionRefusedError:
                if packet[4:5] == FIN:  # port closed: the receiver took the FIN and left
                    return True
                continue  # the receiver not up yet
            if got and got[0] == ACK and got[1] == seq + 1:
                return True
        if patience is not None and time.monotonic() - started >= patience:
            return False


class Window:
    def __init__(self, sock: socket.socket, packets: list[bytes]) -> None:
        self.sock, self.packets = sock, packets
        self.base = 0
        self.changed = threading.Condition()
        self.sent_at: dict[int, float] = {}

    def read_acks(self) -> None:
        self.sock.settimeout(0.05)
        while self.base < len(self.packets):
            try:
                got = unpack(self.sock.recv(2048))
            except (TimeoutError, ConnectionRefusedError):
                continue
            if got and got[0] == ACK:
                with self.changed:
                    if self.base < got[1] <= len(self.sent_at):
                        self.base = got[1]
                        self.changed.notify()

    def run(self) -> None:
        reader = threading.Thread(target=self.read_acks, daemon=True)
        reader.start()
        nxt, end = 0, len(self.packets)
        with self.changed:
            while self.base < end:
                while nxt < end and nxt < self.base + WINDOW:
                    send(self.sock, self.packets[nxt])
                    self.sent_at[nxt] = time.monotonic()
                    nxt += 1
                oldest = self.base
                due = self.sent_at[oldest] + TIMEOUT
                if time.monotonic() >= due:
                    send(self.sock, self.packets[oldest])  # the oldest only
                    self.sent_at[oldest] = time.monotonic()
                    continue
                self.changed.wait(due - time.monotonic())
        reader.join()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=("stop-and-wait", "window"), required=True)
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("file")
    args = parser.parse_args()
    with open(args.file, "rb") as f:
        data = f.read()
    count = (len(data) + MAX_PAYLOAD - 1) // MAX_PAYLOAD
    packets = [pack(DATA, n, data[n * MAX_PAYLOAD:(n + 1) * MAX_PAYLOAD]) for n in range(count)]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.connect((args.host, args.port))
    if args.mode == "stop-and-wait":
        for n, packet in enumerate(packets):
            stop_and_wait(sock, packet, n)
    elif packets:
        Window(sock, packets).run()
    if not stop_and_wait(sock, pack(FIN, count), count, FIN_PATIENCE):
        print("FIN never acknowledged: giving up", flush=True)
        return 1
    print(f"done: {count} packets", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
