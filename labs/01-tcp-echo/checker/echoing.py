"""Lab 1's judgement, free of I/O: the conversations the checker holds with the student's
server, the messages it gives the student's client, and what each observation means.

A conversation is a list of pieces sent in lock-step: the probe sends one piece and
waits for its echo before it sends the next, so the server reads each piece on its own
whatever the timing (a lone space arrives alone, every run). Inputs are drawn from a
``random.Random(seed)``: a failure replays with the run's seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from socklab.i18n import N_, _

PORT = 5000
ECHO_WAIT = 3.0  # seconds the probe waits for each piece's echo (R3 says 2 s: slack for load)
CLOSE_WAIT = 3.0  # seconds it waits for the server to close once it has closed its side (R4: 2)
WILDCARDS = {"0.0.0.0", "*", "[::]", "::", "[::ffff:0.0.0.0]"}


@dataclass(frozen=True)
class Piece:
    """One ``send()`` of a conversation: what it is (for the student), its bytes, the
    pause before it (s), and whether its echo is awaited before anything else is sent."""

    what: str
    data: bytes
    pause: float = 0.0
    wait: bool = True

    def step(self) -> dict[str, Any]:
        return {"hex": self.data.hex(), "pause": self.pause, "wait": self.wait}


# Pieces a server must echo like any others: the ones almost-right servers take for a signal.
AWKWARD = [
    Piece(N_("a lone space"), b" "),
    Piece(N_("a lone newline"), b"\n"),
    Piece(N_("an empty line (CR LF)"), b"\r\n"),
    Piece(N_("only a tab and spaces"), b"\t  "),
    Piece(N_("'quit'"), b"quit"),
    Piece(N_("'exit' and a newline"), b"exit\n"),
    Piece(N_("'bye' and CR LF"), b"bye\r\n"),
    Piece(N_("a NUL byte"), b"\x00"),
    Piece(N_("text with spaces around it"), b"  spaced out  \n"),
    Piece(N_("bytes that are not UTF-8"), b"\xff\xfe\x80"),
]
SIZES = [(1023, 1024, 1025), (4095, 4096, 4097), (8191, 8192, 8193)]
WIDE = "世界"  # 6 bytes of UTF-8: cut inside a character, each half is no text on its own


def lone_pieces(seed: int) -> list[Piece]:
    """The awkward pieces, a character cut in two, and pieces around common buffer sizes,
    in a seeded order; the cut character's halves stay in order, one after the other."""
    rng = random.Random(seed)
    wide = WIDE.encode()
    cut = rng.randint(1, len(wide) - 1)
    units: list[list[Piece]] = [[Piece(_(p.what), p.data)] for p in AWKWARD]  # in the reader's words
    units.append([Piece(_("the first {cut} bytes of {text} (a character cut in two)").format(
                            cut=cut, text=repr(WIDE)), wide[:cut]),
                  Piece(_("the other {rest} bytes of {text}").format(rest=len(wide) - cut, text=repr(WIDE)),
                        wide[cut:])])
    for sizes in SIZES:
        size = rng.choice(sizes)
        units.append([Piece(_("{size} random bytes").format(size=size), rng.randbytes(size))])
    rng.shuffle(units)
    return [piece for unit in units for piece in unit]


def held_pieces(seed: int) -> tuple[list[Piece], float]:
    """A conversation with a long pause: a piece, 4 to 4.5 s of silence (R4: several
    seconds; a server that gives up on a client silent for 3 s is caught every run), a
    piece, and a last piece the client closes its side right after (not waiting for its
    echo)."""
    rng = random.Random(seed + 1)
    pause = round(rng.uniform(4.0, 4.5), 2)
    last = rng.choice([1500, 5000, 20000]) + rng.randrange(100)
    return [Piece(_("a first piece"), "héllo, socklab ".encode()),
            Piece(_("a piece after {pause:g} s of silence").format(pause=pause), "wörld 世界 ".encode(),
                  pause=pause),
            Piece(_("{size} random bytes, then the client's close (shutdown)").format(size=last),
                  rng.randbytes(last), wait=False)], pause


def plan(pieces: list[Piece]) -> list[dict[str, Any]]:
    return [p.step() for p in pieces]


def show(data: bytes, limit: int = 24) -> str:
    text = repr(data[:limit])
    return text + (_("... ({size} bytes)").format(size=len(data)) if len(data) > limit else "")


def first_difference(sent: bytes, got: bytes) -> int | None:
    at = next((i for i, (a, b) in enumerate(zip(sent, got, strict=False)) if a != b), None)
    if at is None and len(sent) != len(got):
        at = min(len(sent), len(got))
    return at


def echo_problem(pieces: list[Piece], seen: dict[str, Any]) -> str | None:
    """What went wrong with a lock-step conversation's echo (None: every piece came back,
    unchanged): which piece's echo did not come, or where the bytes differ."""
    if seen["error"] and seen["error"].startswith("connect"):
        return _("could not connect: {error}").format(error=seen["error"])
    sent, got = bytes.fromhex(seen["sent_hex"]), bytes.fromhex(seen["received_hex"])
    done = seen["pieces"]
    missing = next((i for i, p in enumerate(done) if p["echo_s"] is None and pieces[i].wait), None)
    at = first_difference(sent, got)
    if at is not None and at < min(len(sent), len(got)):
        where = piece_at(pieces, at)
        return _("the echo differs at byte {at} ({where}): sent {sent}, got {got}").format(
            at=at, where=where, sent=show(sent[at:at + 16]), got=show(got[at:at + 16]))
    if missing is not None:
        piece = pieces[missing]
        offset = sum(len(p.data) for p in pieces[:missing])
        how = (_("the server closed the connection") if seen["peer_closed"] else
               f"{seen['error']}" if seen["error"] else
               _("no echo within {seconds:g} s").format(seconds=ECHO_WAIT))
        said = f"{piece.pause:g}" in piece.what  # the piece's own words name its pause
        before = (_(" (after {pause:g} s of silence)").format(pause=piece.pause)
                  if piece.pause and not said else "")
        return _("piece {n} of {total}, {what}{before}: {how}; {back} of its {size} bytes came back "
                 "({received} of {sent} in all)").format(
            n=missing + 1, total=len(pieces), what=piece.what, before=before, how=how,
            back=len(got) - offset if len(got) > offset else 0, size=len(piece.data),
            received=len(got), sent=len(sent))
    if len(got) > len(sent):
        return _("{extra} bytes more than were sent: {data}").format(
            extra=len(got) - len(sent), data=show(got[len(sent):]))
    if len(done) == len(pieces) and len(got) < len(sent):
        how = _("then the server closed") if seen["peer_closed"] else (
            seen["error"] or _("then nothing more"))
        return _("{received} of {sent} bytes came back ({how})").format(
            received=len(got), sent=len(sent), how=how)
    return None


def piece_at(pieces: list[Piece], offset: int) -> str:
    """Which piece byte ``offset`` of the conversation belongs to."""
    start = 0
    for n, piece in enumerate(pieces, 1):
        if offset < start + len(piece.data):
            return _("in piece {n}, {what}").format(n=n, what=piece.what)
        start += len(piece.data)
    return _("after the last piece")


def close_problem(seen: dict[str, Any]) -> str | None:
    """The server did not close once the client had closed its side (None: it did)."""
    if seen["peer_closed"] and seen["closed_after"] is not None:
        return None
    return (_("the client closed its side (shutdown) and got all its bytes back, but the server "
              "did not close the connection within {seconds:g} s").format(seconds=CLOSE_WAIT)
            + (f" ({seen['error']})" if seen["error"] else ""))


def wildcard(local: str) -> bool:
    """Whether an ``ss`` local address (``0.0.0.0:5000``, ``[::]:5000``, ``*:5000``,
    ``10.0.1.2:5000``) is every address of the machine."""
    host = local.rsplit(":", 1)[0].split("%")[0]
    return host in WILDCARDS


# The client's messages: words with characters of 1 to 4 bytes in UTF-8.
WORDS = ["ping", "socket", "héllo", "wörld", "naïve", "échange", "世界", "数据包", "データ",
         "✓", "🙂", "→", "bytes", "é"]
WIDE_WORDS = [w for w in WORDS if len(w.encode()) > len(w)]
LENGTHS = [(20, 60), (1000, 1100), (4000, 4200), (8150, 8250)]
PADS = [" ", "  "]  # around the client's message: a line's spaces are part of it


def message(rng: random.Random, low: int, high: int) -> str:
    """A message of ``low`` to ``high`` bytes in UTF-8, tagged so no two runs share one."""
    text = f"ping-{rng.randrange(10**6):06d} {rng.choice(WIDE_WORDS)}"
    while len(text.encode()) < low:
        word = rng.choice(WORDS)
        if len((text + " " + word).encode()) > high:
            break
        text += " " + word
    return text


def client_exchange(seed: int) -> tuple[str, str, list[int], list[float]]:
    """A message for the student's client, the test server's reply (the message's characters
    reversed: as many bytes, not an echo), the byte offsets where the reply is cut and the
    pauses between its pieces. The first cut is inside a character, the first pause over a
    second; the last piece is the last byte alone (the reply ends in ASCII), so a client
    that stops at any count short of the bytes it sent (its characters, 1024) misses it."""
    rng = random.Random(seed)
    # Spaces at both ends, so the reply has them too: a client that strips what it
    # prints (or what it sends) is caught in every run.
    msg = rng.choice(PADS) + message(rng, *rng.choice(LENGTHS)) + rng.choice(PADS)
    reply = msg[::-1]
    data = reply.encode()
    inside = [i for i in range(1, len(data) - 1) if data[i] & 0xC0 == 0x80]  # continuation bytes
    cuts = [rng.choice(inside), len(data) - 1]
    pauses = [round(rng.uniform(1.1, 1.3), 2), round(rng.uniform(0.3, 0.4), 2)]
    return msg, reply, cuts, pauses


def early_close_exchange(seed: int) -> tuple[str, str]:
    """A message, and the shorter reply of a test server that then closes (whole characters)."""
    rng = random.Random(seed + 7)
    msg = message(rng, 30, 80)
    reply = msg[::-1][:rng.randint(5, len(msg) // 2)].strip() or "?"
    return msg, reply


def printed_problem(stdout: str, reply: str) -> str | None:
    """The client's output lacks a line that is exactly the reply, spaces included (None:
    it has one)."""
    if any(line == reply for line in stdout.splitlines()):
        return None
    lines = [line for line in stdout.splitlines() if line.strip()]
    shown = "\n".join(f"  | {line[:160]!r}" for line in lines[-6:]) or "  " + _("(nothing)")
    near = next((line for line in lines if line.strip() in reply or reply in line), None)
    hint = ""
    if near is not None:
        hint = "\n" + _("a line holds part of the reply: {printed} bytes printed, the reply is "
                         "{size}").format(printed=len(near.strip().encode()), size=len(reply.encode()))
    return _("no line of its output is the reply; its output:") + f"\n{shown}{hint}"
