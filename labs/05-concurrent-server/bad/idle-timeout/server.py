"""Lab 5: an asyncio-streams concurrent echo server."""

import asyncio
import sys


async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    peer = writer.get_extra_info("peername")
    try:
        while data := await asyncio.wait_for(reader.read(32768), 2.0):
            writer.write(data)
            await writer.drain()
        writer.close()
        await writer.wait_closed()
    except TimeoutError:
        print(f"client {peer}: silent for 2 s, closing", flush=True)
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
