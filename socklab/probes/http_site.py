"""Lab 7's site: the files the checker's clients ask the student's server for.

Runs in the server container as the student (stdlib only) and prints one JSON object:

  http_site.py --root DIR --outside FILE --seed S [--beside DIR]

It writes a small seeded site under DIR (a page with a form, its stylesheet and image,
text, binary, a name with a space, an extension in capitals, a file without one,
a name with '..' inside it, a file of a boundary size) and a
secret in FILE, just outside DIR (and in secret.txt of the folder ``--beside``);
it lists each file's size and SHA-256, and what the
page shows (its heading's token, the stylesheet's colour, the image's size).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import struct
import sys
import zlib


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A real PNG image: ``width`` x ``height`` pixels of one colour, with a darker frame."""
    dark = bytes(c // 2 for c in rgb)
    rows = b"".join(
        b"\0"
        + b"".join(dark if y in (0, height - 1) or x in (0, width - 1) else bytes(rgb) for x in range(width))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


INDEX = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>socklab lab 7 — {token}</title>
<link rel="stylesheet" href="/style.css">
</head>
<body>
<h1 id="title">Café {token}</h1>
<p><img id="logo" src="/images/logo.png" alt="a {width}×{height} logo"></p>
<p>Ünïcödé text, so that characters and bytes differ: naïve façade, ½ × ¾ ≠ 1.</p>
<form action="/submit" method="post">
<p><label>Name <input type="text" name="name" id="name-field"></label></p>
<p><label>Message <textarea name="message" id="message-field" rows="3" cols="40"></textarea></label></p>
<p><button type="submit" id="send">Send</button></p>
</form>
</body>
</html>
"""

CSS = """body {{ font-family: "DejaVu Sans", sans-serif; margin: 2em; }}
h1 {{ color: rgb({r}, {g}, {b}); }}
"""


def site(args: argparse.Namespace) -> dict:
    """Write the checker's site under ``root`` (and a secret just outside it); list its files."""
    rng = random.Random(args.seed)
    token = f"{rng.randrange(16**8):08x}"
    rgb = (rng.randrange(40, 200), rng.randrange(40, 200), rng.randrange(40, 200))
    width, height = rng.randrange(90, 160), rng.randrange(30, 60)
    files = {
        "index.html": INDEX.format(token=token, width=width, height=height).encode(),
        "style.css": CSS.format(r=rgb[0], g=rgb[1], b=rgb[2]).encode(),
        "images/logo.png": png(width, height, rgb),
        "notes.txt": f"notes {token}\n".encode() + rng.randbytes(3000).hex().encode() + b"\n",
        "empty.txt": b"",
        "app.js": f"console.log('{token}');\n".encode(),
        "data.json": json.dumps({"token": token}).encode(),
        "data/random.bin": rng.randbytes(200 * 1024),
        "data/README": f"no extension {token}\n".encode(),
        "docs/index.html": f"<!DOCTYPE html>\n<title>docs</title><p>docs {token}</p>\n".encode(),
        "docs/a file.txt": f"a name with a space {token}\n".encode(),
        "docs/Shout.TXT": f"an extension in capitals {token}\n".encode(),
        "docs/c++ notes.txt": f"a plus is a plus {token}\n".encode(),
        "docs/café ½.txt": f"a UTF-8 name {token}\n".encode(),
        "data/v1.2.json": json.dumps({"version": token}).encode(),
        "data/archive.xyz": rng.randbytes(100),
    }
    # a name with '..' inside a segment (only a whole '..' segment leaves the root), and a
    # file whose size sits at a boundary of the buffers a server reads it with
    files[rng.choice(("docs/notes..old.txt", "docs/v1..v2.txt", "docs/..draft.txt", "docs/wait...txt"))] = (
        f"two dots in a name {token}\n".encode()
    )
    files["data/block.bin"] = rng.randbytes(
        rng.choice(
            (1023, 1024, 1025, 4095, 4096, 4097, 8191, 8192, 8193, 65535, 65536, 65537, 131072, 131073)
        )
    )
    # every type of the README's table, its extension in a seeded case
    for name, ext in (
        ("page", ".htm"),
        ("images/photo", ".jpg"),
        ("images/photo2", ".jpeg"),
        ("images/anim", ".gif"),
        ("images/icon", ".svg"),
        ("favicon", ".ico"),
    ):
        spelt = "".join(c.upper() if rng.random() < 0.5 else c for c in ext)
        files[name + spelt] = f"{name} {token} ".encode() + rng.randbytes(rng.randrange(1, 2000))
    listing = {}
    for name, data in files.items():
        path = os.path.join(args.root, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        listing[name] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    secret = f"secret {token} {rng.randbytes(8).hex()}\n".encode()
    outside = [args.outside] + ([os.path.join(args.beside, "secret.txt")] if args.beside else [])
    for path in outside:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(secret)
    return {
        "files": listing,
        "token": token,
        "rgb": list(rgb),
        "logo": [width, height],
        "secret": secret.decode().strip(),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="http_site.py")
    parser.add_argument("--root", required=True)
    parser.add_argument("--outside", required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--beside", default="", help="a folder beside the root: a secret there too")
    print(json.dumps(site(parser.parse_args(argv))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
