"""Lab 9 stream server (asyncio solution): asyncio.start_unix_server on our own socket.

Design: the socket is bound and chmod-ed by socketfile.Claim, then handed to
``asyncio.start_unix_server(sock=...)``; each client is a coroutine reading lines with
``readline()`` (a last line without ``\\n`` is dropped). SIGTERM, through
``loop.add_signal_handler``, ends ``serve_forever`` and the claim is released.

Usage: python3 stream_server.py [PATH]
"""

from __future__ import annotations

import asyncio
import signal
import socket
import sys

import socketfile

PATH = "/scratch/stream.sock"


async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            line = await reader.readline()
            if not line.endswith(b"\n"):
                break  # end of stream; an unfinished line goes with it
            body = line[:-1]
            writer.write(f"{len(body)} ".encode() + body + b"\n")
            await writer.drain()
    except (ConnectionError, ValueError) as exc:  # ValueError: a line over the limit
        print(f"client dropped: {exc!r}", flush=True)
    finally:
        writer.close()


async def serve(sock: socket.socket) -> None:
    server = await asyncio.start_unix_server(client, sock=sock, limit=1 << 20)
    loop = asyncio.get_running_loop()
    stopped = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stopped.set)
    async with server:
        await stopped.wait()


def main() -> int:
    path = sys.argv[1] if len(sys.argv) > 1 else PATH
    socketfile.exit_on_sigterm_until_loop()
    claim = socketfile.Claim(path, socket.SOCK_STREAM)
    try:
        sock = claim.bind()
    except socketfile.Refused as exc:
        print(f"stream_server: {exc}", file=sys.stderr)
        return 1
    try:
        sock.listen()
        asyncio.run(serve(sock))
    finally:
        claim.release()
    return 0


if __name__ == "__main__":
    sys.exit(main())
