"""How a student's program starts in a lab container: stdlib only, run as the student.

  python3 /socklab/launch.py LIMIT -- ARGV...

It becomes ARGV (exec: same process, same exit status, its parent still outside the
container) after three things that keep the checker's own work in that container going:

- nice 19: the checker's probes there (nice 0) get the CPU first, however many threads or
  processes the program spins;
- oom_score_adj 1000: when the container's memory runs out, the kernel kills the
  student's processes, never a probe;
- the output capped here, inside the container: a detached filter passes the first LIMIT
  bytes on, says where it cut, and reads and drops the rest, so a program printing
  gigabytes spends its own CPU on them and nothing beyond LIMIT crosses Docker to the host.

The student can undo none of it: raising priority or lowering oom_score_adj needs
privileges the container does not have. Killing the filter only cuts the program's own output.
"""

from __future__ import annotations

import contextlib
import os
import select
import sys


def cut(limit: int) -> bytes:
    return f"\n[socklab: output cut here: only its first {limit} bytes are kept]\n".encode()


def note(dropped: int) -> bytes:
    return f"\n[socklab: {dropped} more bytes of output dropped]\n".encode()


def relay(limit: int, streams: dict[int, int]) -> None:
    """Copy each read end to its write end until every writer has gone; keep LIMIT bytes in all."""
    kept = dropped = 0
    while streams:
        for source in select.select(list(streams), [], [])[0]:
            chunk = os.read(source, 65536)
            if not chunk:
                os.close(source)
                del streams[source]
                continue
            keep = chunk[: max(limit - kept, 0)]
            kept, more = kept + len(keep), len(chunk) - len(keep)
            if more and not dropped:
                keep += cut(limit)  # said at once: the program may well be killed before it ends
            dropped += more
            if keep:
                try:
                    os.write(streams[source], keep)
                except OSError:  # nobody reads any more (the checker stopped the program)
                    return
    if dropped:
        with contextlib.suppress(OSError):
            os.write(1, note(dropped))


def detach_filter(limit: int) -> None:
    """Put a filter between this process's stdout/stderr and where they led.

    The filter is a grandchild, adopted by the container's init: the program does not
    see it among its children (its own ``wait()`` calls are not disturbed).
    """
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    try:
        child = os.fork()
    except OSError:  # no process to spare: run without the filter (the host still caps)
        for fd in (out_r, out_w, err_r, err_w):
            os.close(fd)
        return
    if child == 0:
        try:
            if os.fork() == 0:
                os.close(out_w)
                os.close(err_w)
                relay(limit, {out_r: 1, err_r: 2})
        finally:
            os._exit(0)
    os.waitpid(child, 0)
    os.dup2(out_w, 1)
    os.dup2(err_w, 2)
    for fd in (out_r, out_w, err_r, err_w):
        os.close(fd)


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        sys.exit("usage: launch.py LIMIT -- ARGV...")
    limit, program = int(argv[0]), argv[2:]
    os.nice(19)
    with open("/proc/self/oom_score_adj", "w") as adj:
        adj.write("1000")
    detach_filter(limit)
    os.execvp(program[0], program)
    return 127  # not reached: execvp raises if it cannot run the program


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
