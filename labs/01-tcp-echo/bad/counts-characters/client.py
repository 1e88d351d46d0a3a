"""Lab 1: an asyncio-streams echo client."""

import asyncio
import sys


async def main(host: str, port: int, text: str) -> None:
    message = text.encode()
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(message)
    await writer.drain()
    received = bytearray()
    while len(received) < len(text):
        chunk = await reader.read(len(text) - len(received))
        if not chunk:
            break
        received += chunk
    writer.close()
    await writer.wait_closed()
    print(received.decode("utf-8", errors="replace"), flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3]))
