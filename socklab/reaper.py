"""Removes a run's Docker resources if its runner dies without doing it (even by SIGKILL).

The runner starts ``python -m socklab.reaper PID PROJECT`` in a session of its own
and stops it after cleaning up; if PID disappears first, the reaper cleans up.
"""

from __future__ import annotations

import os
import sys
import time


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def main(argv: list[str]) -> int:
    pid, project = int(argv[0]), argv[1]
    while alive(pid):
        time.sleep(0.5)
    from socklab import compose, engine  # only now: at a run's start its CPU is the run's

    # A Compose command the runner started may still be creating containers: sweep
    # until nothing of the run has appeared for a few seconds.
    quiet_since = time.monotonic()
    deadline = quiet_since + 120
    while time.monotonic() - quiet_since < 3 and time.monotonic() < deadline:
        if compose.remove(f"{engine.RUN_LABEL}={project}"):
            quiet_since = time.monotonic()
        time.sleep(0.5)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
