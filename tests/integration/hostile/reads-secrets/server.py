"""Hostile: search the whole container for any lab's checker, its secret checks or solutions."""

import os
import socket
import stat
import sys
import threading

# Built at run time, so that this file does not find itself.
MARKERS = [
    m.encode()
    for m in (
        "@pytest.mark." + "points",
        "hidden " + "checks",
        "test_echo_random_" + "pieces",
        *(f"Lab {n} " + "reference" for n in range(1, 10)),
    )
]
SKIP = ("/proc", "/sys", "/dev", "/lab/code")  # /lab/code: this submission itself
SOURCES = (".py", ".pyc", ".toml", ".md", ".txt", ".json", ".sh", ".cfg", ".ini", ".yml", ".yaml")


def worth_reading(path: str, info: os.stat_result) -> bool:
    """A fifo would block; checkers and solutions are source text, not libraries or data."""
    if path.startswith("/proc/"):
        return True
    if not stat.S_ISREG(info.st_mode) or info.st_size > 1 << 20:
        return False
    return "." not in os.path.basename(path) or path.endswith(SOURCES)


def look(path: str, found: list[str]) -> int:
    try:
        if not worth_reading(path, os.lstat(path)):
            return 0
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return 0
    found += [f"FOUND {path}: {m.decode()}" for m in MARKERS if m in data]
    return 1


def processes(found: list[str]) -> int:
    seen = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        for part in ("cmdline", "environ"):
            seen += look(f"/proc/{pid}/{part}", found)
        try:  # a probe's working folder or root, if they led anywhere new
            for where in (os.readlink(f"/proc/{pid}/cwd"), os.readlink(f"/proc/{pid}/root")):
                if where not in ("/", "/scratch", "/lab/code"):
                    found.append(f"FOUND {pid} in {where}")
        except OSError:
            pass
    return seen


FIRST = (
    "/socklab",
    "/lab",
    "/scratch",
    "/tmp",
    "/dev/shm",
    "/root",
    "/home",
    "/etc",
    "/opt",
    "/srv",
    "/var",
    "/usr/local",
)  # where a secret would most likely be: before the rest


def scan() -> None:
    """Reads what it can, the likeliest places first; says what it found at once, and how
    far it got every 100 files (the checks may stop this server before the scan is done)."""
    found: list[str] = []
    files = processes(found)
    print(f"covered /proc ({files} files so far)", flush=True)
    for top in (*FIRST, "/"):
        for where, dirs, names in os.walk(top):
            dirs[:] = [d for d in dirs if os.path.join(where, d) not in (*SKIP, *FIRST)]
            for name in names:
                before = len(found)
                read = look(os.path.join(where, name), found)
                files += read
                if len(found) > before:
                    print("\n".join(found[before:]), flush=True)
                if read and files % 100 == 0:
                    print(f"scanned {files} files", flush=True)
        print(f"covered {top} ({files} files so far)", flush=True)
    print(f"scan done: {files} files read", flush=True)


def echo(port: int) -> None:
    with socket.create_server(("", port)) as listener:
        while True:
            conn, _ = listener.accept()
            with conn:
                try:
                    while data := conn.recv(65536):
                        conn.sendall(data)
                except OSError:
                    pass


if __name__ == "__main__":
    threading.Thread(target=scan, daemon=True).start()
    echo(int(sys.argv[1]))
