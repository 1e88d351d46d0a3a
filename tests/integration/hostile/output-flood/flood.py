"""Print without end, 64 KiB at a time; keep a tally in /scratch/flooded.txt for the test."""

import os
import sys

BLOCK = b"flood " * 10922 + b"\n"  # 64 KiB


def flood() -> None:
    written = 0
    while True:
        sys.stdout.buffer.write(BLOCK)
        written += len(BLOCK)
        if written % (64 << 20) < len(BLOCK):  # every 64 MiB
            with open("/scratch/flooded.txt.new", "w") as tally:
                tally.write(f"{written}\n")
            os.replace("/scratch/flooded.txt.new", "/scratch/flooded.txt")
