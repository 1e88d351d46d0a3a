"""The lab model: every shipped lab loads and is consistent; mistakes name file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from socklab import lab as labs
from socklab.errors import LabError

FOLDERS = labs.folders()


def checks(lab: labs.Lab, folder: str = "checker") -> dict[str, float]:
    """Each check function in a folder of the lab and its points, read from the source."""
    return {c.name: c.points for c in lab.checks() if c.hidden == (folder == "hidden")}


def test_there_are_labs():
    assert FOLDERS[0].name == "01-tcp-echo"


@pytest.mark.parametrize("folder", FOLDERS, ids=[f.name for f in FOLDERS])
def test_lab_is_complete(folder):
    lab = labs.load(folder)
    assert (lab.path / "README.md").is_file()
    assert lab.starter.is_dir() and lab.solution.is_dir()
    assert not lab.missing_files(lab.solution)
    assert not lab.missing_files(lab.starter)
    assert sum(checks(lab).values()) == lab.points, "the checks' points must add up to lab.toml's"
    assert sum(checks(lab, "hidden").values()) == lab.hidden_points, "likewise hidden_points"
    assert len(lab.bad_submissions()) >= 2


@pytest.mark.parametrize("folder", FOLDERS, ids=[f.name for f in FOLDERS])
def test_every_bad_names_a_real_check(folder):
    lab = labs.load(folder)
    for bad in lab.bad_submissions():
        assert bad.caught_by in checks(lab), f"{bad.path}: no check {bad.caught_by}"
        assert bad.defect
        assert any(p.name != "defect.toml" for p in bad.path.iterdir()), "a bad changes a file"


def test_find_by_number_and_name():
    assert labs.find("1").name == labs.find("01").name == labs.find("01-tcp-echo").name


def test_find_unknown_lab_lists_the_labs():
    with pytest.raises(LabError, match=r"no lab '99'.*01-tcp-echo"):
        labs.find("99")


def write_lab(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "07-demo"
    folder.mkdir()
    (folder / "lab.toml").write_text(text)
    return folder


GOOD = """[lab]
title = "demo"
points = 3
[programs.server]
host = "server"
argv = ["python3", "s.py"]
listen = 80
"""


def test_load_a_good_lab(tmp_path):
    lab = labs.load(write_lab(tmp_path, GOOD))
    assert (lab.number, lab.slug, lab.points) == (7, "demo", 3)
    assert lab.programs["server"].file == "s.py" and lab.programs["server"].listen == 80
    assert lab.check_timeout == 30 and lab.timeout == 120 and lab.profile == "clean"
    assert lab.images == {}  # every host runs the plain host image


def test_a_host_may_run_the_browser_image(tmp_path):
    lab = labs.load(write_lab(tmp_path, GOOD + '[hosts.client]\nimage = "browser"\n'))
    assert lab.images == {"client": "browser"}


@pytest.mark.parametrize(
    "bad,message",
    [
        (GOOD.replace("points = 3", "points = -1"), r"\[lab\] points must be positive, not -1"),
        (GOOD.replace("points = 3", 'points = "3"'), r"\[lab\] points must be int, not str '3'"),
        (GOOD.replace('title = "demo"\n', ""), r"\[lab\] is missing 'title'"),
        (
            GOOD.replace('"server"\nargv', '"router"\nargv'),
            r"\[programs.server\] host must be one of client, server, not 'router'",
        ),
        (
            GOOD.replace("listen = 80", "listen = 70000"),
            r"\[programs.server\] listen must be a port between 1 and 65535, not 70000",
        ),
        (GOOD.replace('["python3", "s.py"]', "[]"), r"\[programs.server\] argv must be a non-empty list"),
        (GOOD + "listne = 5\n", r"\[programs.server\] has an unknown key 'listne'"),
        (GOOD.replace("points = 3", "points = 3\ntimeout = 0"), r"\[lab\] timeout must be a positive"),
        ("[lab\n", r"lab.toml: "),
        (GOOD + '[hosts.router]\nimage = "browser"\n', r"\[hosts.router\]: a host is one of client, server"),
        (
            GOOD + '[hosts.client]\nimage = "firefox"\n',
            r"\[hosts.client\] image must be one of host, browser, not 'firefox'",
        ),
        (GOOD + '[hosts.client]\nimgae = "browser"\n', r"\[hosts.client\] has an unknown key 'imgae'"),
    ],
)
def test_mistakes_name_the_file_and_key(tmp_path, bad, message):
    with pytest.raises(LabError, match=message) as info:
        labs.load(write_lab(tmp_path, bad))
    assert "07-demo/lab.toml" in str(info.value)


def test_folder_name_is_checked(tmp_path):
    folder = tmp_path / "demo"
    folder.mkdir()
    with pytest.raises(LabError, match="NN-slug"):
        labs.load(folder)


def test_lay_over_puts_the_bad_files_on_the_solution(tmp_path):
    base, overlay = tmp_path / "base", tmp_path / "bad"
    base.mkdir(), overlay.mkdir()
    (base / "server.py").write_text("good server")
    (base / "client.py").write_text("good client")
    (overlay / "server.py").write_text("bad server")
    (overlay / "defect.toml").write_text("defect = 'x'")
    out = labs.lay_over(base, overlay)
    assert (out / "server.py").read_text() == "bad server"
    assert (out / "client.py").read_text() == "good client"
    assert not (out / "defect.toml").exists()
    assert oct(out.stat().st_mode)[-3:] == "755"  # the student user in the container reads it
