"""Lab 1 alternative solution: an asyncio-streams echo server.

Design: ``asyncio.start_server`` with one coroutine per connection; it reads with
``reader.read(4096)`` and writes back with ``write`` + ``drain`` (flow control), until
EOF; then it closes its side. Clients are served concurrently, which the README allows
(each client still gets its own bytes back). A reset ends only that coroutine.
"""

import asyncio
import sys


async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    peer = writer.get_extra_info("peername")
    try:
        while chunk := await reader.read(4096):
            writer.write(chunk)
            await writer.drain()
        writer.close()
        await writer.wait_closed()
        print(f"client {peer}: closed", flush=True)
    except ConnectionError as exc:
        writer.transport.abort()
        print(f"client {peer}: dropped ({exc!r})", flush=True)


async def main(port: int) -> None:
    server = await asyncio.start_server(echo, host=None, port=port, reuse_address=True)
    print(f"listening on port {port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000))
