"""Lab 2 alternative solution: an asyncio UDP echo server on the raw socket.

Design: one non-blocking UDP socket driven by the event loop's ``sock_recvfrom`` /
``sock_sendto`` (Python 3.11). Not a ``DatagramProtocol``: in 3.11 its transport's
``sendto`` silently drops an empty datagram, and an empty datagram must be echoed too.
Every datagram is answered from the same socket to the address it came from.
"""

import asyncio
import socket
import sys

MAX_DATAGRAM = 65535


async def main(port: int) -> None:
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("", port))
    sock.setblocking(False)
    print(f"listening on UDP port {port}", flush=True)
    while True:
        try:
            data, address = await loop.sock_recvfrom(sock, MAX_DATAGRAM)
            await loop.sock_sendto(sock, data, address)
        except OSError as exc:  # e.g. an ICMP error reported for an earlier reply
            print(f"ignored: {exc!r}", flush=True)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000))
