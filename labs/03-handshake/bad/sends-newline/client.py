"""Lab 3: an asyncio-streams client."""

import asyncio
import sys


async def main(host: str, port: int, message: bytes) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(message + b"\n")
    await writer.drain()
    writer.write_eof()
    reply = await reader.read()
    writer.close()
    await writer.wait_closed()
    sys.stdout.write(reply.decode("utf-8", errors="replace"))
    sys.stdout.flush()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()))
