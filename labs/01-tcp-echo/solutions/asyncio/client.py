"""Lab 1 alternative solution: an asyncio-streams echo client.

Design: ``asyncio.open_connection``; the whole message goes out with ``write`` +
``drain``, then the client reads whatever arrives until it holds as many bytes as it
sent or the server closes (``read`` returns b""). It prints the bytes decoded as UTF-8
on one line.
"""

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
    print(received.decode("utf-8", errors="replace"), flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()))
