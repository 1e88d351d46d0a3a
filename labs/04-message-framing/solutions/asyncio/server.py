"""Lab 4 alternative solution: an asyncio-streams framed server.

Design: ``asyncio.start_server``; each connection's coroutine reads frames with
``readexactly`` (the header, then the payload once its length is known to be at most
MAX_SIZE), answers with ``write`` + ``drain`` (flow control against slow readers), and
closes on an error frame, EOF, a frame cut short or a reset. Connections are served
concurrently by the event loop.
"""

import asyncio
import sys

from framing import HEADER, MAX_SIZE


async def send(writer: asyncio.StreamWriter, kind: bytes, payload: bytes) -> None:
    writer.write(HEADER.pack(kind, len(payload)))
    writer.write(payload)
    await writer.drain()


async def converse(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> str:
    """Answer frames until the conversation ends; return why it ended."""
    answered = 0
    while True:
        try:
            header = await reader.readexactly(HEADER.size)
        except asyncio.IncompleteReadError as exc:
            return f"closed after {answered} frames" if not exc.partial else "closed mid-header"
        kind, length = HEADER.unpack(header)
        if kind != b"M":
            await send(writer, b"E", b"bad kind")
            return f"bad kind {kind!r}"
        if length > MAX_SIZE:
            await send(writer, b"E", b"too long")
            return f"too long ({length})"
        try:
            payload = await reader.readexactly(length)
        except asyncio.IncompleteReadError:
            return "closed mid-payload"
        await send(writer, b"M", payload[::-1])
        answered += 1


async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    peer = writer.get_extra_info("peername")
    try:
        why = await converse(reader, writer)
        writer.close()
        await writer.wait_closed()
    except ConnectionError as exc:
        writer.transport.abort()
        why = f"dropped ({exc!r})"
    print(f"client {peer}: {why}", flush=True)


async def main(port: int) -> None:
    server = await asyncio.start_server(serve, port=port, reuse_address=True)
    print(f"listening on port {port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000))
