"""`socklab grade-all --hosts`: real OpenSSH servers on this machine stand for two grading
hosts (two ports on 127.0.0.1, key authentication with a key made here); the "remote"
socklab is this very checkout. One host is killed mid-batch: its submission is graded
on the other, and every submission is in the gradebook exactly once."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from socklab import lab as labs

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("built_images")]
LAB1 = labs.find("1")
ROOT = labs.LABS_ROOT.parent
SSHD = Path("/usr/sbin/sshd")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        tree.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    return tree


def descendants(pid: int) -> list[int]:
    tree, found, todo = _children(), [], [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


class Host:
    """One sshd on 127.0.0.1:port, run by this test."""

    def __init__(self, folder: Path, key: Path) -> None:
        self.port = _free_port()
        folder.mkdir()
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(folder / "host_key")], check=True
        )
        config = folder / "sshd_config"
        config.write_text(f"""ListenAddress 127.0.0.1
Port {self.port}
HostKey {folder / "host_key"}
AuthorizedKeysFile {key}.pub
PidFile {folder / "sshd.pid"}
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
MaxStartups 50
Subsystem sftp internal-sftp
""")
        self.proc = subprocess.Popen(
            [str(SSHD), "-D", "-e", "-f", str(config)], stderr=(folder / "sshd.log").open("wb")
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"sshd did not listen on {self.port}: {(folder / 'sshd.log').read_text()}")

    @property
    def name(self) -> str:
        return f"root@127.0.0.1:{self.port}"

    def grading(self) -> bool:
        """Whether a `socklab grade` runs in one of this host's SSH sessions."""
        return any("socklab grade" in _cmdline(p) for p in descendants(self.proc.pid))

    def die(self) -> list[int]:
        """Kill this host's sshd and its sessions' sshd processes: every connection drops.
        Returns the session commands left orphaned (they finish and clean up by themselves)."""
        under = descendants(self.proc.pid)
        sshds = [self.proc.pid, *(p for p in under if _cmdline(p).startswith("sshd"))]
        for pid in sshds:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.proc.wait()
        return [p for p in under if p not in sshds]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.die()


@pytest.fixture
def hosts(tmp_path):
    if not SSHD.exists():
        pytest.skip("needs Debian's openssh-server (/usr/sbin/sshd)")
    if os.geteuid() != 0:
        pytest.skip("runs sshd and logs in as root")
    if not (ROOT / ".venv" / "bin" / "socklab").exists():
        pytest.skip("the remote socklab is this checkout's .venv: make venv")
    Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege separation directory
    key = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    started = [Host(tmp_path / "host-a", key), Host(tmp_path / "host-b", key)]
    yield key, started
    for host in started:
        host.stop()


def submissions(root: Path, n: int) -> Path:
    root.mkdir()
    for i in range(n):
        code = LAB1.starter if i % 2 else LAB1.solution
        shutil.copytree(code, root / f"student{i}")
    for path in [root, *root.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return root


def argv(subs: Path, out: Path, key: Path, hosts: list[str]) -> list[str]:
    return [
        sys.executable,
        "-m",
        "socklab.cli",
        "grade-all",
        "1",
        str(subs),
        "--jobs",
        "1",
        "--out",
        str(out),
        "--hosts",
        ",".join(hosts),
        "--remote-root",
        str(ROOT),
        "--identity",
        str(key),
    ]


def records(out: Path) -> dict[str, dict]:
    return {p.parent.name: json.loads(p.read_text()) for p in (out / "students").glob("*/batch.json")}


def gradebook(out: Path) -> list[dict]:
    with (out / "gradebook.csv").open() as f:
        return list(csv.DictReader(f))


@pytest.mark.slow
def test_a_batch_over_two_hosts_and_one_unreachable(hosts, tmp_path):
    key, (a, b) = hosts
    subs, out = submissions(tmp_path / "subs", 3), tmp_path / "out"
    nowhere = f"root@127.0.0.1:{_free_port()}"  # nothing listens there
    run = subprocess.run(
        argv(subs, out, key, [a.name, b.name, nowhere]),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert re.search(rf"host {re.escape(nowhere)} dropped:.*cannot connect", run.stdout)
    rec = records(out)
    assert sorted(rec) == ["student0", "student1", "student2"]
    assert {r["host"] for r in rec.values()} == {a.name, b.name}
    book = {row["student"]: row for row in gradebook(out)}
    assert [book[s]["status"] for s in sorted(book)] == ["passed", "failed", "passed"]
    result = json.loads((out / "students" / "student1" / "result.json").read_text())
    # the host's temporary folder is replaced by the submission's own
    assert result["code"] == str(subs / "student1")
    # where a reproduce command names the code by an absolute path, it is the submission's own
    # (hidden checks and commands relative to the student's repository name none)
    for check in result["checks"]:
        for path in re.findall(r"(?:CODE=|--code[ =])(/\S+)", check["reproduce"]):
            assert path.strip("'\"") == str(subs / "student1"), check["reproduce"]


@pytest.mark.slow
def test_a_host_dying_mid_batch_has_its_submission_graded_on_the_other(hosts, tmp_path):
    key, (a, b) = hosts
    subs, out = submissions(tmp_path / "subs", 4), tmp_path / "out"
    folders_before = set(tmp_folders())
    batch = subprocess.Popen(
        argv(subs, out, key, [a.name, b.name]), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    orphans: list[int] = []
    try:
        deadline = time.monotonic() + 300
        while not a.grading():
            assert batch.poll() is None and time.monotonic() < deadline, "host a never graded"
            time.sleep(0.2)
        time.sleep(2)  # well into the grading
        graded_on_a = {s for s, r in records(out).items() if r["host"] == a.name}
        orphans = a.die()
        output, _ = batch.communicate(timeout=900)
    finally:
        if batch.poll() is None:
            batch.kill()
    assert batch.returncode == 0, output
    assert f"host {a.name} dropped" in output
    rec = records(out)
    assert sorted(rec) == [f"student{i}" for i in range(4)]
    # what a finished before it died stays; everything else was graded on b
    assert {s for s, r in rec.items() if r["host"] == a.name} == graded_on_a
    assert len(graded_on_a) < 4 and all(r["host"] == b.name for s, r in rec.items() if s not in graded_on_a)
    book = gradebook(out)
    assert sorted(row["student"] for row in book) == [f"student{i}" for i in range(4)]  # once each
    assert [row["status"] for row in book] == ["passed", "failed", "passed", "failed"]
    for i in range(4):  # each verdict was reported exactly once
        assert len(re.findall(rf"^student{i}: ", output, re.M)) == 1, output
    _wait_gone(orphans)
    # the dead host's temporary folder, which its lost connection could not remove
    for folder in set(tmp_folders()) - folders_before:
        shutil.rmtree(folder, ignore_errors=True)


def tmp_folders() -> list[Path]:
    return list(Path("/tmp").glob("socklab-grade-*"))


def _wait_gone(orphans: list[int], timeout: float = 300) -> None:
    """The dead host's orphaned gradings finish and tear their lab down by themselves."""
    deadline = time.monotonic() + timeout
    while any(Path(f"/proc/{p}").exists() for p in orphans) and time.monotonic() < deadline:
        time.sleep(1)
