"""Lab 6 server, asyncio streams: one coroutine per client, no threads.

Design: ``asyncio.start_server``; command lines come from ``StreamReader.readuntil``;
files move in 64 KiB pieces with ``write`` + ``await drain()`` (flow control, so a
slow or paused reader never makes the server buffer a whole file). An upload goes to a
hidden ``.NAME.part`` file, renamed over NAME only once every byte has arrived.
A PUT's name is everything between the command and the *last* space, so a name may
contain spaces.

Usage: python3 server.py PORT ROOT
"""

import asyncio
import contextlib
import os
import re
import stat
import sys

CHUNK = 64 * 1024
MAX_LINE = 1024
SIZE = re.compile(rb"[0-9]+")


class Gone(Exception):
    """The client closed or reset its connection."""


def safe_name(name: bytes) -> bool:
    return name not in (b"", b".", b"..") and b"/" not in name and b"\0" not in name


class Client:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 root: str) -> None:
        self.reader, self.writer, self.root = reader, writer, root

    async def line(self) -> bytes:
        try:
            raw = await self.reader.readuntil(b"\n")
        except asyncio.IncompleteReadError as exc:
            raise Gone from exc
        except asyncio.LimitOverrunError as exc:  # longer than the protocol allows
            raise Gone from exc
        raw = raw[:-1]
        return raw[:-1] if raw.endswith(b"\r") else raw

    async def say(self, text: str) -> None:
        self.writer.write(text.encode() + b"\n")
        await self.writer.drain()

    def where(self, name: bytes) -> str:
        return os.path.join(os.fsencode(self.root), name).decode("utf-8", "surrogateescape")

    async def do_list(self) -> None:
        names = []
        with os.scandir(os.fsencode(self.root)) as entries:
            for entry in entries:
                if not entry.name.startswith(b".") and entry.is_file(follow_symlinks=False):
                    names.append(entry.name)
        body = b"".join(name + b"\n" for name in sorted(names))
        self.writer.write(b"200 OK %d\n" % len(body) + body)
        await self.writer.drain()

    async def do_get(self, name: bytes) -> None:
        if not safe_name(name):
            await self.say("553 refused")
            return
        try:
            f = open(self.where(name), "rb")  # noqa: SIM115 (closed below)
        except OSError:
            await self.say("550 not found")
            return
        with f:
            info = os.fstat(f.fileno())
            if not stat.S_ISREG(info.st_mode):
                await self.say("550 not found")
                return
            left = info.st_size
            await self.say(f"200 OK {left}")
            while left > 0:
                piece = f.read(min(CHUNK, left))
                if not piece:  # the file shrank under us: nothing honest left to send
                    raise Gone
                self.writer.write(piece)
                await self.writer.drain()
                left -= len(piece)

    async def do_put(self, arg: bytes) -> None:
        name, space, size = arg.rpartition(b" ")
        if not space or not SIZE.fullmatch(size):
            await self.say("501 bad arguments")
            return
        if not safe_name(name):
            await self.say("553 refused")
            return
        final = self.where(name)
        part = self.where(b"." + name + b".part")
        left = total = int(size)
        await self.say("150 ready")
        try:
            with open(part, "wb") as out:
                while left > 0:
                    piece = await self.reader.read(min(CHUNK, left))
                    if not piece:
                        raise Gone
                    out.write(piece)
                    left -= len(piece)
            os.replace(part, final)
        except BaseException:
            if os.path.exists(part):
                os.unlink(part)
            raise
        await self.say(f"226 stored {total}")

    async def run(self) -> None:
        while True:
            command, _, arg = (await self.line()).partition(b" ")
            if command == b"QUIT":
                await self.say("221 bye")
                return
            if command == b"LIST":
                await self.do_list()
            elif command == b"GET":
                await self.do_get(arg)
            elif command == b"PUT":
                await self.do_put(arg)
            else:
                await self.say("500 unknown command")


async def main() -> None:
    port, root = int(sys.argv[1]), sys.argv[2]
    os.makedirs(root, exist_ok=True)

    async def session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await Client(reader, writer, root).run()
        except (Gone, OSError) as exc:
            print(f"client gone: {exc!r}", flush=True)
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    server = await asyncio.start_server(session, port=port, limit=MAX_LINE + 2,
                                        reuse_address=True)
    print(f"serving {root} on port {port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
