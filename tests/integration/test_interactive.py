"""`socklab up / shell / watch / down`: a lab's network left up for exploring by hand."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from socklab import engine
from socklab.cli import main

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("built_images")]


def test_up_shell_watch_down(capfd):
    project = f"socklab-itest-{os.getpid()}"
    assert main(["up", "1", "--project", project]) == 0
    try:
        assert "next: socklab shell client" in capfd.readouterr().out
        # the code under test is mounted; the student's shell reaches the server by name
        assert main(["shell", "client", "--project", project, "-c",
                     "id -un; ls /lab/code; ping -c 1 -W 3 server >/dev/null && echo reached"]) == 0
        out = capfd.readouterr().out
        assert "student" in out and "server.py" in out and "reached" in out
        tcpdump = subprocess.Popen(
            [sys.executable, "-m", "socklab.cli", "watch", "--project", project, "-c", "2", "icmp"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        main(["shell", "client", "--project", project, "-c", "sleep 1; ping -c 2 -W 3 server"])
        out, _ = tcpdump.communicate(timeout=30)
        assert "ICMP echo request" in out, out
    finally:
        assert main(["down", "--project", project]) == 0
    selector = {"label": [f"{engine.RUN_LABEL}={project}"]}
    assert not engine.client().containers.list(all=True, filters=selector)


def test_doctor_reports_what_this_machine_supports(capsys):
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "ok  Docker engine" in out and "ok  NFQUEUE" in out
    assert "netem" in out  # reported either way; socklab does not need it
