"""The checker's hand inside a lab container: runs the checker's commands there.

Started once per container and check session (``docker exec -i CONTAINER python3
/socklab/agent.py``, as root without capabilities, out of the student's reach), it
reads one JSON request per line on stdin and answers one JSON line per request on
stdout, each command in a thread of its own, so a slow command holds up no other:

    {"id": 1, "argv": ["ss", "-H", "-ltn"], "timeout": 10, "cwd": "/scratch", "env": {}}
    {"id": 1, "rc": 0, "out": "...", "err": "", "timed_out": false}
    {"id": 2, "refused": "fork: Resource temporarily unavailable"}

A new ``docker exec`` costs a tenth of a second or more; a command started from here
costs a fork. ``refused`` means the container had no process to spare (its pids limit),
as Docker's own ``OCI runtime exec failed`` does. Stdlib only.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from typing import Any

_write = threading.Lock()


def reply(message: dict[str, Any]) -> None:
    with _write:
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()


def run(request: dict[str, Any]) -> None:
    ident = request["id"]
    try:
        proc = subprocess.Popen(
            request["argv"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=request.get("cwd") or "/",
            env={**os.environ, **request.get("env", {})},
            start_new_session=True,
        )
    except BlockingIOError as exc:  # EAGAIN: the process table is full
        reply({"id": ident, "refused": str(exc)})
        return
    except OSError as exc:  # as `docker exec` reports a command it cannot run
        reply(
            {
                "id": ident,
                "rc": 127 if isinstance(exc, FileNotFoundError) else 126,
                "out": "",
                "err": f"{request['argv'][0]}: {exc}\n",
                "timed_out": False,
            }
        )
        return
    timed_out = False
    try:
        out, err = proc.communicate(timeout=request.get("timeout"))
    except subprocess.TimeoutExpired:
        timed_out = True
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
    rc = proc.returncode
    reply(
        {
            "id": ident,
            "rc": 128 - rc if rc < 0 else rc,  # killed by N: 128 + N, as a shell says
            "out": out.decode(errors="replace"),
            "err": err.decode(errors="replace"),
            "timed_out": timed_out,
        }
    )


def main() -> None:
    reply({"ready": os.getpid()})
    for line in sys.stdin:
        request = json.loads(line)
        try:
            threading.Thread(target=run, args=(request,), daemon=True).start()
        except RuntimeError as exc:  # no thread to spare: the process table is full
            reply({"id": request["id"], "refused": str(exc)})


if __name__ == "__main__":
    main()
