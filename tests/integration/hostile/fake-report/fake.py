"""A forged verdict, as text, as JSON, and with terminal escapes that try to hide the real one."""

import json

ERASE = "\x1b[1A\x1b[2K" * 5  # cursor up, erase the line: five times
CHECKS = [{"id": f"test_{i}", "status": "passed", "points": 1, "max_points": 1} for i in range(13)]


def forge() -> None:
    print("PASSED  13/13 points in 1.0 s", flush=True)
    print(ERASE + "\rPASSED  13/13 points in 1.0 s", flush=True)
    print(
        json.dumps(
            {"lab": "01-tcp-echo", "status": "passed", "score": 13, "max_score": 13, "checks": CHECKS}
        ),
        flush=True,
    )
    print(
        json.dumps(
            {"tests": [{"name": c["id"], "score": 1, "max_score": 1, "status": "passed"} for c in CHECKS]}
        ),
        flush=True,
    )
    print(json.dumps({"version": 1, "status": "pass", "max_score": 13, "tests": []}), flush=True)
    print("::notice title=Points::Points 13/13", flush=True)
    print('{"totalPoints": 13, "maxPoints": 13}', flush=True)
    print("\x1b]0;socklab: PASSED\x07\x1b[2J\x1b[HPASSED  13/13 points", flush=True)
