"""Lab 8's transfer to a receiver that leaves when the FIN comes (R10, R11).

The checker's own receiver (``socklab/probes/reliable_udp.py vanish``, in the server
container) acknowledges the data as the README's receiver does, then closes its port when
the FIN comes, without acknowledging it. The server's kernel answers each FIN sent again
with ICMP "port unreachable", and the router passes it on to the client, where a sender
on a connected socket meets it as ConnectionRefusedError. The check judges what the
sender did then (``rdt_wire.gone_problem``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import rdt_wire
from transfer import PORT, RouterCapture, Transfer, Transfers

from socklab.checking import observe
from socklab.i18n import _

SCRIPT = "reliable_udp.py"
LINK = {"description": "1 ms each way, nothing else", "c2s": {"delay_ms": 1},  # not shown
        "s2c": {"delay_ms": 1}}


class Vanishing(observe.Stoppable):
    """The checker's receiver in the server container, bound once constructed; ``stop()``
    returns what it saw: ``data`` packets answered, ``wanted`` in the end, ``fin_at``."""

    def __init__(self, container: str, fin: int, timeout: float) -> None:
        args = ["vanish", "--port", str(PORT), "--fin", str(fin), "--timeout", str(timeout)]
        super().__init__(container, SCRIPT, args, _("the checker's receiver"))


@dataclass
class Left:
    """A transfer whose receiver left at the FIN, and what came of it."""

    transfer: Transfer  # the sender's run, the router's log and capture
    end: rdt_wire.Gone
    fin: int
    exit_at: float  # when the checker saw the sender had exited (time.time()): it exited no later


def run(transfers: Transfers, name: str, size: int, mode: str, what: str, *,
        bound: float) -> Left:
    """Send a seeded random file of ``size`` bytes in ``mode`` to the checker's receiver,
    which leaves at the FIN; the sender gets ``bound`` seconds."""
    ctx, programs = transfers.ctx, transfers.programs
    data, source = transfers.put(name, size)
    fin = -(-size // rdt_wire.MAX_PAYLOAD)
    programs.stop_host("server")  # port 5000 is the checker's receiver's now
    receiver = Vanishing(transfers.server, fin, bound + 5)
    try:
        version = transfers.link.set(config=LINK, name="clean")
        with RouterCapture(ctx, name) as cap:
            sender = programs.run("sender", ["--mode", mode, "server", str(PORT), source],
                                  timeout=bound)
            exit_at = time.time()
    finally:
        seen = receiver.stop()
    events = [e for e in transfers.link.events(version) if e["proto"] == "udp"]
    datagrams = cap.datagrams(events, ctx.addresses["client"])
    came = _("the FIN reached it, and it closed its port then") if seen["fin_at"] is not None \
        else _("no FIN it could take reached it")
    peer = _("the checker's receiver stood in for yours: it answered {data} intact data packets "
             "(it had every packet before {wanted}); {came}").format(
                 data=seen["data"], wanted=seen["wanted"], came=came)
    t = Transfer(what, data, None, sender, True, bound, 0, events=events, datagrams=datagrams,
                 pcap=str(cap.path), flooded=cap.flooded, peer=peer)
    end = rdt_wire.gone(cap.data, ctx.addresses["client"], ctx.addresses["server"], fin)
    return Left(t, end, fin, exit_at)
