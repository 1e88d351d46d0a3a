"""`socklab up / shell / watch / down`: a lab's network left up for exploring by hand."""

from __future__ import annotations

import json
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
        assert (
            main(
                [
                    "shell",
                    "client",
                    "--project",
                    project,
                    "-c",
                    "id -un; ls /lab/code; ping -c 1 -W 3 server >/dev/null && echo reached",
                ]
            )
            == 0
        )
        out = capfd.readouterr().out
        assert "student" in out and "server.py" in out and "reached" in out
        tcpdump = subprocess.Popen(
            [sys.executable, "-m", "socklab.cli", "watch", "--project", project, "-c", "2", "icmp"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
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
    assert "image path" in out  # the pull path or the offline one, whichever this machine takes
    assert main(["doctor", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found["ok"] and found["facts"]["nfqueue"] is True
    assert {f["what"]: f["ok"] for f in found["findings"]}["Docker engine"]


def test_runtime_control_of_an_impaired_lab(capfd):
    project = f"socklab-itest-imp-{os.getpid()}"
    assert main(["up", "1", "--project", project, "--profile", "lan", "--seed", "4"]) == 0
    try:
        assert "the link is impaired: profile lan, seed 4" in capfd.readouterr().out
        assert main(["impair", "show", "--project", project]) == 0
        shown = capfd.readouterr().out
        assert '"profile": "lan"' in shown and '"seed": 4' in shown
        assert main(["impair", "set", '{"update": {"c2s": {"loss": 1.0}}}', "--project", project]) == 0
        assert '"version": 2' in capfd.readouterr().out  # applied as a new config version
        # every ping is now lost on the way out: the change took effect
        assert main(["shell", "client", "--project", project, "-c", "ping -c 2 -W 1 server"]) != 0
        assert main(["impair", "stats", "--project", project]) == 0
        assert "c2s" in capfd.readouterr().out
        assert main(["impair", "set", "not json", "--project", project]) == 2
    finally:
        assert main(["down", "--project", project]) == 0
