"""socklab/probes/run.py: a probe gets its arguments from the environment, and they are not
on its command line, where any process in the container could read them (ps)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from socklab.checking import observe
from socklab.checking.programs import docker_exec

RUN = Path(__file__).resolve().parents[2] / "socklab/probes/run.py"
# A probe that tells what it was given and what its process shows to others.
WITNESS = """
import json, os, sys
cmdline = open("/proc/self/cmdline", "rb").read().split(b"\\0")
print(json.dumps({"argv": sys.argv[1:], "main": __name__, "file": os.path.basename(__file__),
                  "cmdline": [c.decode() for c in cmdline if c],
                  "env_left": "SOCKLAB_ARGS" in os.environ}))
sys.exit(3)
"""


@pytest.fixture
def probes(tmp_path):
    shutil.copy(RUN, tmp_path / "run.py")
    (tmp_path / "witness.py").write_text(WITNESS)
    return tmp_path


def run(probes: Path, script: str, args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(probes / "run.py"), script],
        capture_output=True,
        text=True,
        env={"SOCKLAB_ARGS": json.dumps(args)},
        check=False,
    )


def test_the_probe_runs_with_its_arguments_which_its_command_line_does_not_show(probes):
    secret = ["--payload", "the answer is 42", "--seed", "7"]
    out = run(probes, "witness.py", secret)
    seen = json.loads(out.stdout)
    assert out.returncode == 3  # the probe's own exit status
    assert seen["argv"] == secret and seen["main"] == "__main__" and seen["file"] == "witness.py"
    assert seen["cmdline"][1:] == [str(probes / "run.py"), "witness.py"]
    assert not seen["env_left"]  # its children do not inherit them either


@pytest.mark.parametrize("script", ["../witness.py", "/etc/passwd", "witness", ""])
def test_only_a_script_beside_it_runs(probes, script):
    out = run(probes, script, [])
    assert out.returncode != 0 and "usage" in out.stderr


def test_the_checker_passes_probe_arguments_in_the_environment():
    argv = observe.probe_exec("c1", "probe.py", ["tcp-echo", "--payload", "secret"])
    assert argv == docker_exec(
        "c1",
        ["python3", "/socklab/run.py", "probe.py"],
        env={"SOCKLAB_ARGS": '["tcp-echo", "--payload", "secret"]'},
    )
    assert "--env=SOCKLAB_ARGS=" + '["tcp-echo", "--payload", "secret"]' in argv
    assert argv.index("c1") > argv.index("--env=SOCKLAB_ARGS=" + '["tcp-echo", "--payload", "secret"]')
