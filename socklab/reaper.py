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
    from socklab import compose  # only now: at a run's start its CPU is the run's

    # A Compose command the runner started may still be creating containers
    compose.sweep(project, quiet=3.0, limit=120.0)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
