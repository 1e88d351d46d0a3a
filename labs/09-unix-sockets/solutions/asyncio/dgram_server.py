"""Lab 9 datagram server (asyncio solution): a DatagramProtocol on our own socket.

Design: the bound, chmod-ed socket goes to ``loop.create_datagram_endpoint(sock=...)``.
``datagram_received`` answers at once; a reply that cannot be sent (the client's file is
gone) comes back to ``error_received``, which only logs it. asyncio reads up to 256 KiB
per datagram, so no datagram is cut; a reply to a full queue is buffered, not dropped.

Usage: python3 dgram_server.py [PATH]
"""

from __future__ import annotations

import asyncio
import signal
import socket
import sys

import socketfile

PATH = "/scratch/dgram.sock"


class Lengths(asyncio.DatagramProtocol):
    def connection_made(self, transport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr) -> None:
        if addr:
            try:
                self.transport.sendto(f"{len(data)} ".encode() + data, addr)
            except OSError as exc:
                print(f"no reply to {addr!r}: {exc}", flush=True)

    def error_received(self, exc: Exception) -> None:
        print(f"a reply was lost: {exc}", flush=True)


async def serve(sock: socket.socket) -> None:
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(Lengths, sock=sock)
    stopped = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stopped.set)
    try:
        await stopped.wait()
    finally:
        transport.close()


def main() -> int:
    path = sys.argv[1] if len(sys.argv) > 1 else PATH
    socketfile.exit_on_sigterm_until_loop()
    claim = socketfile.Claim(path, socket.SOCK_DGRAM)
    try:
        sock = claim.bind()
    except socketfile.Refused as exc:
        print(f"dgram_server: {exc}", file=sys.stderr)
        return 1
    try:
        asyncio.run(serve(sock))
    finally:
        claim.release()
    return 0


if __name__ == "__main__":
    sys.exit(main())
