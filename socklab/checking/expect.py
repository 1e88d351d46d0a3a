"""Assertion helpers for checkers: each says what was expected and what was observed.

They hide their own frames (``__tracebackhide__``) so a student sees their failing
check, not socklab's internals.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable
from typing import Any

from socklab.grading.text import capped, visible
from socklab.i18n import _

# Characters of what a check observed, in its message: a flood observed (thousands of
# datagrams listed) is cut here, whichever checker built the list.
OBSERVED = 4000


def stopped_reading(received: int) -> str:
    """What a check says of a peer that sent more than a probe keeps (the probes, in the
    containers, say it in English: ``socklab.probes.bounded.stopped``)."""
    return _("the checker stopped reading after {received} bytes (the server sends without end?)").format(
        received=received
    )


def said(text: str | None, words: Iterable[tuple[re.Pattern[str], str]]) -> str | None:
    """A probe's phrase in the reader's language: the probes run in the containers (stdlib
    only) and say their few fixed phrases in English; a checker lists them as ``words``,
    (pattern, ``N_`` text with the pattern's groups as placeholders). Anything else (an
    exception's text, None) is returned as it is."""
    for pattern, msgid in words if text else ():
        if found := pattern.fullmatch(text):  # type: ignore[arg-type]
            return _(msgid).format(**found.groupdict())
    return text


def fail(expected: str, observed: str, evidence: str = "") -> None:
    __tracebackhide__ = True
    text = (
        _("expected {expected}").format(expected=expected)
        + "\n"
        + _("observed {observed}").format(observed=capped(observed, OBSERVED))
    )
    raise AssertionError(f"{text}\n{evidence}" if evidence else text)


def output(label: str, text: str, lines: int = 12) -> str:
    """A program's output quoted for a failure message: labelled, each line marked as its
    own and capped, so nothing it prints stands in the report as socklab's words."""
    shown = text.rstrip("\n").splitlines()[-lines:]
    if not shown:
        return _("{label}: nothing").format(label=label)
    quoted = "\n".join(f"  | {visible(capped(line))}" for line in shown)
    return _("{label} (last lines):").format(label=label) + "\n" + quoted


def echoed(seen: dict[str, Any], what: str, evidence: str = "") -> None:
    """The probe's exchange came back byte-identical (an empty one: closed by the server)."""
    __tracebackhide__ = True
    if seen["sent"] == 0:
        if not seen["peer_closed"] or seen["received"]:
            stopped = f" ({stopped_reading(seen['received'])})" if seen.get("overflow") else ""
            ending = _("not closed") if stopped else seen["error"] or _("the server closed")
            fail(
                _("{what}: no bytes back, and the server closing the connection").format(what=what),
                _("{received} bytes back{stopped}; {ending}").format(
                    received=seen["received"], stopped=stopped, ending=ending
                ),
                evidence,
            )
        return
    if seen["first_difference"] is None:
        return
    observed = _("{received} of {sent} bytes back").format(received=seen["received"], sent=seen["sent"])
    if seen.get("overflow"):
        observed = _("more than {sent} bytes back: {stopped}").format(
            sent=seen["sent"], stopped=stopped_reading(seen["received"])
        )
    if seen["first_difference"] < seen["received"]:
        observed += _("; first difference at byte {at}: sent {sent}, got {got} (hex)").format(
            at=seen["first_difference"], sent=seen["sent_at_difference"], got=seen["received_at_difference"]
        )
    if seen["written"] < seen["sent"]:
        observed += _("; only {written} bytes could be sent").format(written=seen["written"])
    if seen["error"]:
        observed += f" ({seen['error']})"
    elif seen["peer_closed"]:
        observed += _(" (then the server closed the connection)")
    fail(
        _("{what}: {sent} bytes echoed back unchanged").format(what=what, sent=seen["sent"]),
        observed,
        evidence,
    )


def listening(host: Any, port: int, proto: str = "tcp") -> None:
    """A socket listens on ``port`` in the container (seen with ``ss``, any address)."""
    __tracebackhide__ = True
    sockets = host.socket.get_listening_sockets()
    if not any(s.startswith(f"{proto}://") and s.endswith(f":{port}") for s in sockets):
        fail(
            _("a socket listening on {proto} port {port}").format(proto=proto.upper(), port=port),
            _("listening sockets {sockets} (seen with ss in the container)").format(
                sockets=sockets or _("none")
            ),
        )


WILDCARDS = ("0.0.0.0", "::")  # every IPv4 address; every IPv6 one (and IPv4 too, dual-stack)


def listening_on_the_port_given(programs: Any, host: Any, port: int, seed: int, name: str = "server") -> None:
    """A server's R1 in every lab: it listens on ``port`` on every address; started again
    with a seeded other port in its arguments, it listens there; then it is stopped (the
    next check starts it again as the lab starts it)."""
    __tracebackhide__ = True
    programs.ensure(name)
    listening_everywhere(host, port)
    other = random.Random(seed).randrange(port + 1, port + 1000)  # PORT is the argument
    try:
        programs.start_with(name, {str(port): str(other)})
        listening_everywhere(host, other)
    finally:
        programs.stop(name)


def listening_everywhere(host: Any, port: int, proto: str = "tcp") -> None:
    """A socket listens on ``port`` on every address (bound to ``""``, 0.0.0.0 or ::)."""
    __tracebackhide__ = True
    listening(host, port, proto)
    sockets = host.socket.get_listening_sockets()
    if not any(s in (f"{proto}://{a}:{port}" for a in WILDCARDS) for s in sockets):
        fail(
            _(
                "a socket listening on {proto} port {port} on every address (bound to '', 0.0.0.0 or ::)"
            ).format(proto=proto.upper(), port=port),
            _("listening sockets {sockets} (seen with ss in the container): bound to one address").format(
                sockets=sockets
            ),
        )
