"""The control channel: one JSON object per line each way, over a Unix stream socket.

Run inside the engine's container, ``python3 -m socklab.impair.control SOCKET CMD [JSON]``
sends one request and prints the reply as one JSON document (for stats and log, their
text form follows it), e.g. ``... stats`` or ``... set '{"profile": "lossy"}'``.
The commands are documented in the package docstring (``socklab/impair/__init__.py``).
"""

from __future__ import annotations

import json
import os
import selectors
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from socklab.impair import log, profiles
from socklab.impair.engine import Engine
from socklab.impair.stats import format_summary

Handler = Callable[[Engine, dict[str, Any], Path | None], dict[str, Any]]
_MAX_REQUEST = 1 << 20


def _show(engine: Engine, req: dict[str, Any], path: Path | None) -> dict[str, Any]:
    return {
        "version": engine.version,
        "seed": engine.seed,
        "profile": engine.profile.name,
        "config": profiles.to_table(engine.profile),
        "held": len(engine.held),
    }


def _merge(table: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """``update`` laid over ``table``: nested tables merge, a null removes the key."""
    out = dict(table)
    for key, value in update.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _set(engine: Engine, req: dict[str, Any], path: Path | None) -> dict[str, Any]:
    unknown = sorted(set(req) - {"cmd", "profile", "config", "name", "update", "seed"})
    if unknown:
        raise ValueError(f"set takes profile, config (with name), update and seed, not {unknown[0]!r}")
    profile, seed = engine.profile, engine.seed
    if "profile" in req:
        profile = profiles.get(str(req["profile"]), path)
    if "config" in req:
        profile = profiles.from_table(str(req.get("name", "custom")), req["config"], "control")
    if "update" in req:
        if not isinstance(req["update"], dict):
            raise ValueError(f"update must be an object, not {req['update']!r}")
        table = _merge(profiles.to_table(profile), req["update"])
        profile = profiles.from_table(profile.name, table, "control")
    if "seed" in req:
        seed = req["seed"]
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ValueError(f"seed must be an integer, not {seed!r}")
    version = engine.configure(profile, seed, "set")
    return {"version": version, "profile": profile.name, "seed": seed}


def _reset(engine: Engine, req: dict[str, Any], path: Path | None) -> dict[str, Any]:
    profile, seed = engine.start
    return {"version": engine.configure(profile, seed, "reset"), "profile": profile.name, "seed": seed}


def _stats(engine: Engine, req: dict[str, Any], path: Path | None) -> dict[str, Any]:
    engine.housekeeping()
    summary = engine.stats.summary()
    return {
        "version": engine.version,
        "seed": engine.seed,
        "held": len(engine.held),
        "stats": summary,
        "text": format_summary(summary),
    }


def _log(engine: Engine, req: dict[str, Any], path: Path | None) -> dict[str, Any]:
    last = req.get("last", 50)
    if isinstance(last, bool) or not isinstance(last, int) or last < 0:
        raise ValueError(f"last must be a non-negative integer, not {last!r}")
    events = list(engine.recent)[-last:] if last else []
    records = [log.record(e) for e in events]
    return {"version": engine.version, "events": records, "text": [log.human(r) for r in records]}


COMMANDS: dict[str, Handler] = {
    "show": _show,
    "set": _set,
    "reset": _reset,
    "stats": _stats,
    "log": _log,
}


def handle(engine: Engine, request: Any, path: Path | None = None) -> dict[str, Any]:
    """Answer one request: ``{"ok": true, ...}`` or ``{"ok": false, "error": ...}``."""
    if not isinstance(request, dict) or request.get("cmd") not in COMMANDS:
        cmd = request.get("cmd") if isinstance(request, dict) else request
        return {"ok": False, "error": f"cmd must be one of {', '.join(COMMANDS)}, not {cmd!r}"}
    try:
        return {"ok": True, **COMMANDS[request["cmd"]](engine, request, path)}
    except ValueError as exc:
        return {"ok": False, "error": str(exc)}


class Server:
    """Accepts clients on a Unix socket; each line in gets one line out."""

    def __init__(
        self, engine: Engine, path: str, selector: selectors.BaseSelector, profiles_path: Path | None = None
    ) -> None:
        self.engine, self.path, self.selector = engine, path, selector
        self.profiles_path = profiles_path
        if os.path.exists(path):
            os.unlink(path)  # a socket left by an engine that died
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        os.chmod(path, 0o600)
        self.sock.listen(8)
        self.sock.setblocking(False)
        selector.register(self.sock, selectors.EVENT_READ, self._accept)

    def _accept(self) -> None:
        conn, _ = self.sock.accept()
        conn.settimeout(2.0)
        buf = bytearray()
        self.selector.register(conn, selectors.EVENT_READ, lambda: self._read(conn, buf))

    def _read(self, conn: socket.socket, buf: bytearray) -> None:
        try:
            data = conn.recv(65536)
        except OSError:
            data = b""
        buf += data
        while b"\n" in buf:
            line, _, rest = bytes(buf).partition(b"\n")
            buf[:] = rest
            try:
                reply = handle(self.engine, json.loads(line), self.profiles_path)
            except json.JSONDecodeError as exc:
                reply = {"ok": False, "error": f"a request must be one JSON object: {exc}"}
            try:
                conn.sendall(json.dumps(reply).encode() + b"\n")
            except OSError:
                data = b""
        if not data or len(buf) > _MAX_REQUEST:
            self.selector.unregister(conn)
            conn.close()

    def close(self) -> None:
        self.selector.unregister(self.sock)
        self.sock.close()
        if os.path.exists(self.path):
            os.unlink(self.path)


def request(path: str, message: dict[str, Any], timeout: float = 5.0) -> dict[str, Any]:
    """Send one request to the engine listening on ``path``; return its reply."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(path)
        sock.sendall(json.dumps(message).encode() + b"\n")
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError(f"the engine at {path} closed the connection")
            buf += chunk
    reply: dict[str, Any] = json.loads(buf)
    return reply


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        print(
            "usage: python3 -m socklab.impair.control SOCKET show|set|reset|stats|log [JSON]", file=sys.stderr
        )
        return 2
    message = {"cmd": argv[1], **(json.loads(argv[2]) if len(argv) == 3 else {})}
    reply = request(argv[0], message)
    text = reply.pop("text", None) if message["cmd"] in ("stats", "log") else None
    print(json.dumps(reply, indent=2))
    if text:
        print("\n".join(text) if isinstance(text, list) else text)
    return 0 if reply.get("ok") else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
