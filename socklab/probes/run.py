"""Runs a probe with its arguments from the environment, so that no one else sees them.

    SOCKLAB_ARGS='["tcp-echo", "--port", "5000"]' python3 /socklab/run.py probe.py

Any process in a lab container may read every other's command line (``ps``), but only
root may read root's environment. The checker's probes run as root: with their arguments
here, a student's program cannot learn what a check is about to send or expects back.
The probe (a script beside this one) runs as if started with those arguments. Stdlib only.
"""

from __future__ import annotations

import json
import os
import runpy
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def main() -> None:
    if len(sys.argv) != 2 or os.sep in sys.argv[1] or not sys.argv[1].endswith(".py"):
        sys.exit("usage: SOCKLAB_ARGS='[...]' python3 run.py PROBE.py (a script beside run.py)")
    args = json.loads(os.environ.pop("SOCKLAB_ARGS", "[]"))  # not passed on to its children
    script = os.path.join(HERE, sys.argv[1])
    sys.argv = [script, *args]
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
