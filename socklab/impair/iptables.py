"""The one NFQUEUE rule the engine owns, on the FORWARD chain, marked with a comment."""

from __future__ import annotations

import shlex
import subprocess

COMMENT = "socklab-impair"


def rule(queue: int) -> list[str]:
    """The rule's spec. No --queue-bypass: with no engine bound, packets drop, never pass
    unimpaired, so a lab that needed impairment cannot silently run without it."""
    return ["FORWARD", "-m", "comment", "--comment", COMMENT, "-j", "NFQUEUE", "--queue-num", str(queue)]


def _iptables(*args: str) -> str:
    argv = ["iptables", "-w", *args]
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise OSError(f"iptables is not installed: {exc}") from None
    if proc.returncode != 0:
        raise OSError(f"{shlex.join(argv)} failed with exit code {proc.returncode}: {proc.stderr.strip()}")
    return proc.stdout


def ours(listing: str) -> list[list[str]]:
    """The specs of our rules in ``iptables -S FORWARD`` output, ready for ``-D``."""
    specs = []
    for line in listing.splitlines():
        words = shlex.split(line)
        if words[:1] == ["-A"] and COMMENT in words:
            specs.append(words[1:])
    return specs


def remove() -> int:
    """Delete every rule of ours (also those an engine that died left); return how many."""
    specs = ours(_iptables("-S", "FORWARD"))
    for spec in specs:
        _iptables("-D", *spec)
    return len(specs)


def install(queue: int) -> None:
    """Send every forwarded IPv4 packet to ``queue`` (first rule of FORWARD)."""
    remove()
    spec = rule(queue)
    _iptables("-I", spec[0], "1", *spec[1:])
