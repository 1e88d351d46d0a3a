"""Lab 3: an asyncio-streams server."""

import asyncio
import hashlib
import sys


def answer(request: bytes) -> bytes:
    """The reply: the request's size and SHA-256, which only a whole request gives."""
    return f"{len(request)} {hashlib.sha256(request).hexdigest()}\n".encode()


async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    peer = writer.get_extra_info("peername")
    try:
        request = b""
        while True:
            try:  # a client that stays silent for a second has said everything
                chunk = await asyncio.wait_for(reader.read(65536), 1.0)
            except TimeoutError:
                break
            if not chunk:
                break
            request += chunk
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
