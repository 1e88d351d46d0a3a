"""Lab 1: an asyncio-streams echo client."""

import asyncio
import sys


async def main(host: str, port: int, message: bytes) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(message)
    await writer.drain()
    received = bytearray()
    while len(received) < len(message):
        chunk = await reader.read(len(message) - len(received))
        if not chunk:
            break
        received += chunk
    writer.close()
    await writer.wait_closed()
    print(bytes(received), flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()))
