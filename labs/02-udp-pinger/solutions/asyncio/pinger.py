"""Lab 2 alternative solution: an asyncio pinger.

Design: a ``DatagramProtocol`` puts every datagram that arrives into an
``asyncio.Queue``; each ping waits on the queue with ``asyncio.wait_for`` for what is
left of its one-second deadline (the loop's monotonic clock). Datagrams that are not the
exact echo of the current request (late replies) are noted on a line of their own and
skipped.
"""

import asyncio
import socket
import sys
import time

TIMEOUT = 1.0


class Inbox(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.queue: asyncio.Queue[bytes] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.queue.put_nowait(data)

    def error_received(self, exc: Exception) -> None:
        print(f"note: {exc!r}", flush=True)


async def ping(transport: asyncio.DatagramTransport, inbox: Inbox, seq: int) -> float | None:
    loop = asyncio.get_running_loop()
    request = f"PING {seq} {time.time():.6f}".encode("ascii")
    sent = loop.time()
    transport.sendto(request)
    deadline = sent + TIMEOUT
    while (left := deadline - loop.time()) > 0:
        try:
            data = await asyncio.wait_for(inbox.queue.get(), left)
        except TimeoutError:
            return None
        if data == request:
            return (loop.time() - sent) * 1000
        print(f"note: ignored a late datagram {data[:30]!r}", flush=True)
    return None


async def main(host: str, port: int, count: int) -> None:
    loop = asyncio.get_running_loop()
    address = (socket.gethostbyname(host), port)
    transport, inbox = await loop.create_datagram_endpoint(Inbox, remote_addr=address)
    rtts = []
    for seq in range(1, count + 1):
        rtt = await ping(transport, inbox, seq)
        if rtt is None:
            print(f"seq={seq} timeout", flush=True)
        else:
            rtts.append(rtt)
            print(f"seq={seq} rtt={rtt:.1f} ms", flush=True)
    transport.close()
    loss = 100.0 * (count - len(rtts)) / count if count else 0.0
    summary = f"--- {count} sent, {len(rtts)} received, {loss:.1f}% loss"
    if rtts:
        summary += f", rtt min/avg/max = {min(rtts):.1f}/{sum(rtts) / len(rtts):.1f}/{max(rtts):.1f} ms"
    print(summary, flush=True)


if __name__ == "__main__":
    args = sys.argv[1:]
    asyncio.run(main(args[0], int(args[1]), int(args[2]) if len(args) > 2 else 10))
