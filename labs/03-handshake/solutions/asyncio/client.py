"""Lab 3 alternative solution: an asyncio-streams client.

Design: ``asyncio.open_connection``; the request goes out with ``write`` + ``drain``,
``write_eof()`` is the half-close (``shutdown(SHUT_WR)`` underneath), and ``read()``
collects the reply up to the server's FIN before the client closes its socket.
"""

import asyncio
import sys


async def main(host: str, port: int, message: bytes) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(message)
    await writer.drain()
    writer.write_eof()
    reply = await reader.read()
    writer.close()
    await writer.wait_closed()
    sys.stdout.write(reply.decode("utf-8", errors="replace"))
    sys.stdout.flush()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()))
