"""Output files are as readable as the user's umask allows: a TA or a web server reads them."""

from __future__ import annotations

import os
import subprocess
import sys


def test_written_files_follow_the_umask(tmp_path):
    script = (
        "import os, sys\n"
        "os.umask(int(sys.argv[2], 8))\n"
        "from pathlib import Path\n"
        "from socklab.grading.result import write_atomic\n"
        "write_atomic(Path(sys.argv[1]), 'x')\n"
    )
    for umask, mode in (("022", 0o644), ("027", 0o640), ("077", 0o600)):
        path = tmp_path / f"gradebook-{umask}.csv"
        subprocess.run([sys.executable, "-c", script, str(path), umask], check=True)
        assert os.stat(path).st_mode & 0o777 == mode, umask
