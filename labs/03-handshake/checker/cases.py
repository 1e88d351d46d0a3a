"""What lab 3's checks send, drawn from the run's seed, and how a server's reply is judged.

Pure: no sockets, no containers. The probe (socklab/probes/handshake.py) carries out the
plans; ``problem()`` reads what it reported. A plan item is a dict the probe understands:
``{"payload": SPEC, "cuts": [byte offsets], "gaps": [seconds], "end": "fin" | "rst" | "fin-rst"}``.
"""

from __future__ import annotations

import hashlib
import random
import re
from typing import Any

from socklab.checking import expect
from socklab.i18n import N_, _

# The handshake probe's fixed phrases (socklab/probes/handshake.py, in English in the
# container), as the reader reads them (expect.said)
PROBE_WORDS = (
    (re.compile(r"while sending: (?P<error>.*)", re.S), N_("while sending: {error}")),
    (re.compile(r"while reading the reply: (?P<error>.*)", re.S), N_("while reading the reply: {error}")),
    (re.compile(r"while reading the request: (?P<error>.*)", re.S),
     N_("while reading the request: {error}")),
    (re.compile(r"while replying: (?P<error>.*)", re.S), N_("while replying: {error}")),
    (re.compile(r"port (?P<port>\d+) is in use"), N_("port {port} is in use")),
)


def said(text: str | None) -> str | None:
    """The probe's ``text`` in the reader's language."""
    return expect.said(text, PROBE_WORDS)

BOUNDARIES = (1024, 4096, 8192, 65536, 131072)  # common buffer sizes: a program cut there shows it
LONG_PAUSE = (1.3, 1.6)  # seconds: longer than a second, what a 1 s timeout mistakes for the end
# One pause per slow conversation is longer still: what a 2 or 3 s timeout mistakes for the end.
LONGEST_PAUSE = (3.1, 3.4)
SHORT_PAUSE = (0.03, 0.25)
LARGEST_REQUEST = 200_000  # R2
LARGEST_MESSAGE = 100_000  # R4: the client's MESSAGE, a command-line argument


def answer(request: bytes) -> str:
    """The lab's protocol: the server answers a request with its size and SHA-256."""
    return f"{len(request)} {hashlib.sha256(request).hexdigest()}\n"


def answer_of(size: int, sha256: str) -> str:
    return f"{size} {sha256}\n"


def cuts(rng: random.Random, size: int, pieces: int) -> list[int]:
    """Offsets that cut ``size`` bytes into (at most) ``pieces`` pieces at random points."""
    return sorted(rng.sample(range(1, size), min(pieces, size) - 1)) if size > 1 else []


def pauses(rng: random.Random, count: int, long_ones: int = 0,
           longest: bool = False) -> list[float]:
    """``count`` pauses: short ones, and ``long_ones`` of them (at random places) over a
    second; with ``longest``, the first of those over 3 s."""
    out = [round(rng.uniform(*SHORT_PAUSE), 3) for _ in range(count)]
    for n, i in enumerate(rng.sample(range(count), min(long_ones, count))):
        out[i] = round(rng.uniform(*(LONGEST_PAUSE if longest and n == 0 else LONG_PAUSE)), 3)
    return out


def near(rng: random.Random, boundary: int) -> int:
    """A size at a buffer boundary: one below, on it, or one above."""
    return boundary + rng.choice((-1, 0, 1))


def slow_request(seed: int) -> dict[str, Any]:
    """A request over 64 KiB, in 4 to 6 pieces cut anywhere, one pause over 3 s."""
    rng = random.Random(seed)
    size = rng.randrange(65537 + 1000, LARGEST_REQUEST)
    count = rng.randrange(4, 7)
    return {"payload": f"random:{size}:{seed}", "cuts": cuts(rng, size, count),
            "gaps": pauses(rng, count - 1, long_ones=1, longest=True), "end": "fin"}


def request_sizes(seed: int) -> list[dict[str, Any]]:
    """Requests one after another: at each common buffer size (one below, on, one above),
    binary and multi-byte UTF-8, cut at random points; a short one a byte at a time."""
    rng = random.Random(seed)
    plan = []
    for i, boundary in enumerate(BOUNDARIES):
        size = near(rng, boundary)
        kind = "utf8" if i % 2 == 0 else "random"
        count = rng.randrange(1, 4)
        plan.append({"payload": f"{kind}:{size}:{seed + i}", "cuts": cuts(rng, size, count),
                     "gaps": pauses(rng, count - 1), "end": "fin"})
    plan.append({"payload": f"random:{LARGEST_REQUEST}:{seed + 8}",  # R2's largest request
                 "cuts": cuts(rng, LARGEST_REQUEST, 3), "gaps": pauses(rng, 2), "end": "fin"})
    tiny = rng.randrange(8, 40)
    plan.append({"payload": f"utf8:{tiny}:{seed + 9}", "cuts": list(range(1, tiny)),
                 "gaps": [0.005], "end": "fin"})
    plan.append({"payload": "text:\n", "end": "fin"})  # one byte: a newline
    rng.shuffle(plan)
    return plan


def resets(seed: int) -> list[dict[str, Any]]:
    """Clients that reset their connections (before, during and after a request), then one
    that asks properly."""
    rng = random.Random(seed)
    size, last = rng.randrange(2000, 9000), rng.randrange(100, 3000)
    return [
        {"payload": f"random:{size}:{seed}", "cuts": cuts(rng, size, 2), "gaps": [0.05],
         "end": "rst"},  # in the middle of its request
        {"payload": "empty", "end": "rst"},  # at once, nothing sent
        {"payload": f"utf8:{rng.randrange(10, 200)}:{seed + 1}", "end": "fin-rst"},  # at its end
        # ... and at its end while the server is busy with another client: when it comes to
        # this one, the FIN and the reset are both there (a send() or recv() of it raises
        # BrokenPipeError, not ConnectionResetError), whatever the timing
        {"payload": f"utf8:{rng.randrange(10, 200)}:{seed + 3}", "end": "fin-rst", "busy": True},
        {"payload": f"utf8:{last}:{seed + 2}", "cuts": cuts(rng, last, 3), "gaps": [0.05],
         "end": "fin"},
    ]


def problem(seen: dict[str, Any]) -> str | None:
    """What is wrong with the server's handling of one request the probe sent with a FIN,
    or None: nothing back before the FIN, then exactly the answer, then the server's FIN."""
    if seen["error"] and seen["error"].startswith("connect"):
        return _("could not connect: {error}").format(error=seen["error"])
    if seen["early"] or seen["early_eof"]:
        early = (_("a reply {reply} after only {at} of the request's {size} bytes, before the client's "
                   "FIN").format(reply=repr(seen["early"][:80]), at=seen["early_at"],
                                 size=seen["request"]["size"]) if seen["early"] else
                 _("the server's FIN after only {at} of the request's {size} bytes, before the client's "
                   "FIN").format(at=seen["early_at"], size=seen["request"]["size"]))
        return early + (_("; then {error}").format(error=said(seen["error"])) if seen["error"] else "")
    expected = answer_of(seen["request"]["size"], seen["request"]["sha256"])
    reply = seen["reply"]
    wrong = reply["head"] != expected or reply["size"] != len(expected)
    if not wrong and seen["eof"] and not seen["error"]:
        return None
    # the reply, then how the connection ended: clauses in the order they happened
    observed = _("no reply") if not reply["size"] else _("the reply {reply}").format(
        reply=repr(reply["head"][:100]))
    if reply["size"] > 100:
        observed += _(" ({size} bytes)").format(size=reply["size"])
    if wrong and reply["size"]:
        observed += _(" instead of {expected}").format(expected=repr(expected))
    if seen["error"]:
        observed += _(", then {error}").format(error=said(seen["error"]))
    elif not seen["eof"]:
        observed += _(", and no FIN (EOF) within 5 s: the server did not close after replying")
    else:
        observed += _(", then the server's FIN")
    return observed


def describe_request(item: dict[str, Any], size: int) -> str:
    """A plan item in words, for a failure message."""
    kind = item["payload"].split(":")[0]
    what = {"random": _("binary"), "utf8": _("UTF-8 text"), "text": _("text"), "empty": _("empty")}[kind]
    pieces = len(item.get("cuts", [])) + 1 if size else 0
    gaps = item.get("gaps", [])
    longest = max(gaps) if gaps and pieces > 1 else 0
    how = _("in one piece") if pieces <= 1 else _("in {count} pieces").format(count=pieces)
    if longest >= 1:
        how += _(" (one pause of {seconds:.1f} s)").format(seconds=longest)
    elif pieces == size and size > 1:
        how = _("one byte at a time")
    return _("a {size}-byte {what} request {how}").format(size=size, what=what, how=how)


def reply_for_client(seed: int, request: bytes) -> tuple[str, list[int], list[float], float]:
    """What the checker's server sends a client: (text, byte offsets of the cuts, pauses,
    seconds before its FIN). Several lines of multi-byte UTF-8, the last without a newline,
    cut inside a character once, one pause over a second, and the FIN a while later."""
    rng = random.Random(seed)
    text = (answer(request) + f"第二行 — ligne {rng.randrange(10**6):06d} ✓\n"
            + f"last line 🙂 {rng.randrange(10**9):09d} without a newline")  # not shown: data, sent
    data = text.encode()
    inside = [i for i in range(1, len(data)) if data[i] & 0xC0 == 0x80]  # in a character
    offsets = sorted({rng.choice(inside), *rng.sample(range(1, len(data)), 3)})
    return (text, offsets, pauses(rng, len(offsets), long_ones=1, longest=True),
            round(rng.uniform(0.4, 0.7), 3))


def client_message(seed: int) -> str:
    """A MESSAGE for the client: over 64 KiB of multi-byte UTF-8 text with newlines."""
    rng = random.Random(seed)
    alphabet = "hello world\n你好世界 ünïcödé ✓🙂"
    size = rng.randrange(65537, 90000)
    # Spaces first and a newline last, every run: a client that strips MESSAGE is caught.
    chars = [rng.choice([" ", "  ", "\t"])]
    total = 2
    while total < size:
        char = rng.choice(alphabet)
        chars.append(char)
        total += len(char.encode())
    return "".join(chars) + "\n"


def first_difference(want: str, got: str) -> int:
    """The index of the first character where ``got`` differs from ``want``."""
    return next((i for i, (a, b) in enumerate(zip(want, got, strict=False)) if a != b),
                min(len(want), len(got)))
