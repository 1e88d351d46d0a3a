"""Try to write everywhere a grader might keep something; print what happened to each try."""

import glob
import json
import os

FAKE = json.dumps({"status": "passed", "score": 13, "max_score": 13, "tests": []})


def host_paths() -> list[str]:
    """Host folders the mounts give away (/proc/self/mountinfo), and where results may be."""
    guesses = []
    with open("/proc/self/mountinfo") as mounts:
        lines = mounts.read().splitlines()
    for line in lines:
        fields = line.split()
        source, target = fields[3], fields[4]
        if source.startswith("/") and source != "/" and target in ("/lab/code", "/socklab"):
            guesses.append(os.path.join(source, "hostile-was-here"))
            repo = os.path.dirname(os.path.dirname(source.rstrip("/")))  # .../socklab/probes
            guesses += [
                os.path.join(repo, "runs", "hostile-was-here", "result.json"),
                os.path.join(repo, "labs", "01-tcp-echo", "checker", "test_echo.py"),
            ]
    return guesses


def others() -> list[str]:
    """The processes of other users (root's: the container's init, the checker's probes)."""
    pids = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.stat(f"/proc/{pid}").st_uid != os.getuid():
                pids.append(pid)
        except OSError:
            pass
    return pids


def targets() -> list[str]:
    return [
        "/lab/code/server.py",
        "/lab/code/client.py",
        "/lab/code/result.json",
        "/socklab/probe.py",
        "/socklab/result.json",
        "/socklab/checks.json",
        "/lab/result.json",
        "/result.json",
        "/results.json",
        "/runs/result.json",
        "/autograder/results/results.json",
        "/grade/results/results.json",
        "/etc/hosts",
        "/etc/resolv.conf",
        "/usr/local/bin/socklab-net-init",
        "/proc/1/root/lab/code/result.json",
        "/proc/1/fd/1",
        *(f"/proc/{pid}/fd/1" for pid in others()),  # the probes' output, the init's log
        *glob.glob("/proc/sys/net/ipv4/conf/*/forwarding"),
        *host_paths(),
        "/scratch/result.json",
        "/tmp/result.json",
        "/dev/shm/result.json",  # writable: our own
    ]


def attempt(path: str) -> str:
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as out:
            out.write(FAKE)
    except OSError as exc:
        return f"denied {path}: {exc.strerror}"
    return f"WROTE {path}"


def scribble() -> None:
    for path in targets():
        print(attempt(path), flush=True)
    print("scribble done", flush=True)
