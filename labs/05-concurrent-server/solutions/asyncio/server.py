"""Lab 5 alternative solution: an asyncio-streams concurrent echo server.

Design: one thread, one event loop, one coroutine per client (``asyncio.start_server``).
Back-pressure comes from ``await writer.drain()``: while a client does not read its
echo, its coroutine stops reading from it, so the server never stores more than the
transport's high-water mark for it. A reset ends only that client's coroutine; the
transport is closed however the conversation ends.
"""

import asyncio
import sys


async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    peer = writer.get_extra_info("peername")
    try:
        while data := await reader.read(32768):
            writer.write(data)
            await writer.drain()
        writer.close()
        await writer.wait_closed()
    except ConnectionError as exc:
        print(f"client {peer}: dropped ({exc!r})", flush=True)
    finally:
        writer.transport.abort()  # no-op when already closed; frees the socket after a reset


async def main(port: int) -> None:
    server = await asyncio.start_server(echo, port=port, reuse_address=True, backlog=128)
    print(f"listening on port {port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000))
