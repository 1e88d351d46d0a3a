"""Assertion helpers for checkers: each says what was expected and what was observed.

They hide their own frames (``__tracebackhide__``) so a student sees their failing
check, not socklab's internals.
"""

from __future__ import annotations

from typing import Any


def fail(expected: str, observed: str, evidence: str = "") -> None:
    __tracebackhide__ = True
    text = f"expected {expected}\nobserved {observed}"
    raise AssertionError(f"{text}\n{evidence}" if evidence else text)


def echoed(seen: dict[str, Any], what: str, evidence: str = "") -> None:
    """The probe's exchange came back byte-identical (an empty one: closed by the server)."""
    __tracebackhide__ = True
    if seen["sent"] == 0:
        if not seen["peer_closed"] or seen["received"]:
            fail(f"{what}: no bytes back, and the server closing the connection",
                 f"{seen['received']} bytes back; {seen['error'] or 'the server closed'}", evidence)
        return
    if seen["first_difference"] is None:
        return
    observed = f"{seen['received']} of {seen['sent']} bytes back"
    if seen["first_difference"] < seen["received"]:
        observed += (f"; first difference at byte {seen['first_difference']}: sent "
                     f"{seen['sent_at_difference']}, got {seen['received_at_difference']} (hex)")
    if seen["written"] < seen["sent"]:
        observed += f"; only {seen['written']} bytes could be sent"
    if seen["error"]:
        observed += f" ({seen['error']})"
    elif seen["peer_closed"]:
        observed += " (then the server closed the connection)"
    fail(f"{what}: {seen['sent']} bytes echoed back unchanged", observed, evidence)


def listening(host: Any, port: int, proto: str = "tcp") -> None:
    """A socket listens on ``port`` in the container (seen with ``ss``, any address)."""
    __tracebackhide__ = True
    sockets = host.socket.get_listening_sockets()
    if not any(s.startswith(f"{proto}://") and s.endswith(f":{port}") for s in sockets):
        fail(f"a socket listening on {proto.upper()} port {port}",
             f"listening sockets {sockets or 'none'} (seen with ss in the container)")
