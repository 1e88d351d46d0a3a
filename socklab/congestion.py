"""TCP congestion control for the demo: which algorithm, whether the kernel lets us, what to expect.

The kernel's default algorithm decides what TCP does under random loss: BBR does not
slow down for it, Reno and CUBIC halve (or cut) their window at each loss. So the demo
names its choice and sets it per socket (``TCP_CONGESTION``). A socket without
privileges may choose only the *allowed* algorithms; *available* ones need
``CAP_NET_ADMIN``, which the lab containers never have. The Mathis model gives what a
loss-based TCP is expected to reach at a loss rate.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from socklab.errors import SocklabError

DEFAULT = "reno"  # loss-based and the one the Mathis model describes
NAME = re.compile(r"[a-z][a-z0-9_]*")
ALLOWED = "net.ipv4.tcp_allowed_congestion_control"


@dataclass(frozen=True)
class Kernel:
    """What a kernel offers: its default, what any socket may choose, what is loaded."""

    default: str
    allowed: tuple[str, ...]
    available: tuple[str, ...]

    @classmethod
    def from_probe(cls, reply: dict) -> Kernel:
        return cls(reply["default"], tuple(reply["allowed"]), tuple(reply["available"]))

    def describe(self) -> str:
        loaded_only = [cc for cc in self.available if cc not in self.allowed]
        return (
            f"congestion control in this kernel: default {self.default}; any socket may choose "
            f"{', '.join(self.allowed)}"
            + (f"; loaded, but only for privileged sockets: {', '.join(loaded_only)}" if loaded_only else "")
        )


def parse(text: str) -> tuple[str, ...]:
    """``"reno,bbr"`` as ``("reno", "bbr")``: each name once, in the order given."""
    names = [n.strip().lower() for n in text.split(",") if n.strip()]
    bad = [n for n in names if not NAME.fullmatch(n)]
    if not names or bad:
        raise SocklabError(
            f"--cc takes congestion control names separated by commas (reno, cubic, bbr), not {text!r}"
        )
    return tuple(dict.fromkeys(names))


def unusable(wanted: str, kernel: Kernel) -> str | None:
    """Why an unprivileged socket cannot use ``wanted`` here, with the fix; None if it can."""
    if wanted in kernel.allowed:
        return None
    allow = " ".join([*kernel.allowed, wanted])
    fix = f'sudo sysctl -w {ALLOWED}="{allow}"'
    host = "on the Docker host (Docker Desktop, WSL2: in its Linux VM)"
    if wanted in kernel.available:
        return (
            f"congestion control {wanted!r} is loaded in this kernel but not allowed for "
            f"unprivileged sockets, and the lab containers have no privileges (allowed: "
            f"{', '.join(kernel.allowed)}). Allow it {host}: {fix}"
        )
    return (
        f"congestion control {wanted!r} is not in this kernel (available: "
        f"{', '.join(kernel.available)}; allowed for unprivileged sockets: "
        f"{', '.join(kernel.allowed)}). Load and allow it {host}: "
        f"sudo modprobe tcp_{wanted} && {fix}"
    )


def check(wanted: tuple[str, ...], kernel: Kernel) -> None:
    """Raise a SocklabError naming every algorithm the demo cannot use, and the fix."""
    problems = [p for cc in wanted if (p := unusable(cc, kernel))]
    if problems:
        raise SocklabError("\n".join(problems))


def mathis(mss: int, rtt_s: float, loss: float) -> float | None:
    """Mathis et al. (1997): a loss-based TCP's goodput, MSS / (RTT · sqrt(2p/3)), in bytes/s.

    None where it says nothing: no loss (the model has no limit) or no RTT measured.
    """
    if loss <= 0 or rtt_s <= 0 or mss <= 0:
        return None
    return mss / (rtt_s * math.sqrt(2 * loss / 3))
