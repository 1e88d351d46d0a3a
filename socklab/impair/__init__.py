"""socklab's network-impairment engine: a seeded userspace netem on NFQUEUE.

Standard library only (Python 3.11): it runs in the router-side container, which has no pip.
The decision logic (``decide``) is pure; ``nfqueue`` is the only module that touches netlink.

Run (root or CAP_NET_ADMIN + CAP_NET_RAW, in the router's network namespace)::

    python3 -m socklab.impair --profile lossy --seed 7 --client-net 198.18.4.0/24 \\
        --queue 0 --log /var/log/socklab/events.jsonl --control /run/socklab-impair.sock

It binds NFQUEUE ``--queue``, inserts ``iptables -I FORWARD 1 -m comment --comment
socklab-impair -j NFQUEUE --queue-num N`` (removed on exit, SIGTERM or SIGINT; stale
copies are removed at start), then creates the control socket: its existence means ready.
Packets from ``--client-net`` are client-to-server (c2s), the others s2c.
``--list`` validates and lists the profiles; ``--profiles FILE`` replaces the built-in file.
Exit status 2 with ``socklab-impair: error: ...`` on a bad profile or a platform failure.

Control: one JSON object per line over the Unix socket, one reply line each, always with
``"ok"`` (and ``"error"`` when false). ``python3 -m socklab.impair.control SOCKET CMD [JSON]``
is a client.

- ``{"cmd": "show"}``: version, seed, profile name, its config table, packets held.
- ``{"cmd": "set", "profile": NAME}``, ``{"cmd": "set", "config": TABLE, "name": N}`` or
  ``{"cmd": "set", "update": {"c2s": {"loss": 0.2, "delay_ms": null}}}`` (merged into the
  current table; null removes a key), each optionally with ``"seed": N``. Validated whole,
  then swapped in between two packets; replies with the new version.
- ``{"cmd": "reset"}``: back to the profile and seed the engine started with (new version).
- ``{"cmd": "stats"}``: configured vs realized per rule and direction for the current
  version (delays counted from the kernel's arrival time), the wait in the kernel's queue
  before the engine read each packet (``queued_ms``), overload counters (ENOBUFS,
  queue_dropped, user_dropped), and a ``text`` form.
- ``{"cmd": "log", "last": N}``: the last N events (up to 2000), as records and text lines.

Every change starts a new config version with fresh random streams and statistics, and
writes a ``{"event": "config", ...}`` line to the log. See docs/impairment.md.
"""
