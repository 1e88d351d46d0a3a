"""Lab 3 alternative solution: an asyncio-streams server.

Design: ``asyncio.start_server``; each connection's coroutine reads the request with
``reader.read()`` (no limit: it returns only at EOF, the client's FIN), writes the
answer, drains it and closes the transport (the server's FIN). Connections are served
concurrently by the event loop; a reset ends only its own coroutine.
"""

import asyncio
import hashlib
import sys


def answer(request: bytes) -> bytes:
    """The reply: the request's size and SHA-256, which only a whole request gives."""
    return f"{len(request)} {hashlib.sha256(request).hexdigest()}\n".encode()


async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    peer = writer.get_extra_info("peername")
    try:
        request = await reader.read()
        writer.write(answer(request))
        await writer.drain()
        writer.close()
        await writer.wait_closed()
        print(f"client {peer}: {len(request)} bytes answered", flush=True)
    except ConnectionError as exc:
        writer.transport.abort()
        print(f"client {peer}: dropped ({exc!r})", flush=True)


async def main(port: int) -> None:
    server = await asyncio.start_server(serve, port=port, reuse_address=True)
    print(f"listening on port {port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000))
