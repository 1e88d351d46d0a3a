"""Hostile: a client that allocates memory until the kernel kills it, before connecting."""

held = []
while True:
    held.append(b"m" * (16 << 20))
