"""Hostile: kill every process in sight, again and again, next to a working echo server."""

import contextlib
import os
import signal
import socket
import sys
import threading
import time


def round_of_kills(tally: dict[str, str]) -> None:
    me = os.getpid()
    parent = os.getppid()
    targets = [parent] if parent > 1 else []  # 0 under `docker exec`: outside the container
    targets += [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) != me]
    for pid in targets:
        try:
            os.kill(pid, signal.SIGKILL)
            tally[str(pid)] = "killed"
        except ProcessLookupError:
            pass
        except PermissionError:
            tally.setdefault(str(pid), "denied")
    with contextlib.suppress(OSError):
        os.kill(-1, signal.SIGKILL)  # everything this user may signal


def killer() -> None:
    tally: dict[str, str] = {}
    try:  # go on counting from the last server started in this container
        with open("/scratch/kills.txt") as before:
            rounds = int(before.readline().split()[1])
    except (OSError, IndexError, ValueError):
        rounds = 0
    while True:
        round_of_kills(tally)
        rounds += 1
        if rounds % 5 == 1:  # write down the tally (our own output is among the casualties)
            with open("/scratch/kills.txt.new", "w") as out:
                out.write(f"rounds {rounds}\n")
                out.writelines(f"{pid} {what}\n" for pid, what in sorted(tally.items()))
            os.replace("/scratch/kills.txt.new", "/scratch/kills.txt")
        time.sleep(0.05)


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
    threading.Thread(target=killer, daemon=True).start()
    echo(int(sys.argv[1]))
