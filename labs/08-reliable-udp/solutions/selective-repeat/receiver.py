"""Lab 8 receiver (selective-repeat solution): an asyncio DatagramProtocol.

Each datagram is handled in ``datagram_received``; early packets wait in a dict. Once
the FIN is taken the file is closed and the protocol switches to lingering: a timer
(``loop.call_later``) restarted by every packet ends the program after 1 s of silence.

Usage: python3 receiver.py PORT OUTFILE
"""

import asyncio
import sys

from rdt import ACK, DATA, FIN, pack, unpack

LINGER = 1.0


class Receiver(asyncio.DatagramProtocol):
    def __init__(self, path: str, done: asyncio.Future) -> None:
        self.out = open(path, "wb")  # noqa: SIM115 (closed when the FIN is taken)
        self.done = done
        self.expected = 0
        self.early: dict[int, bytes] = {}
        self.fin: int | None = None
        self.timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr) -> None:
        got = unpack(data)
        if self.fin is not None:
            self.linger()
            if got is not None and got[0] == FIN:
                self.transport.sendto(pack(ACK, self.fin + 1), addr)
            return
        if got is None:
            return
        kind, seq, payload = got
        if kind == DATA:
            if seq >= self.expected:
                self.early.setdefault(seq, payload)
            while self.expected in self.early:
                self.out.write(self.early.pop(self.expected))
                self.expected += 1
        elif kind == FIN and seq == self.expected:
            self.out.close()
            self.fin = seq
            self.transport.sendto(pack(ACK, seq + 1), addr)
            self.linger()
            return
        self.transport.sendto(pack(ACK, self.expected), addr)

    def linger(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
        loop = asyncio.get_running_loop()
        self.timer = loop.call_later(LINGER, self.done.set_result, None)


async def main() -> None:
    port, path = int(sys.argv[1]), sys.argv[2]
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    transport, _ = await loop.create_datagram_endpoint(
        lambda: Receiver(path, done), local_addr=("0.0.0.0", port))
    try:
        await done
    finally:
        transport.close()


if __name__ == "__main__":
    asyncio.run(main())
