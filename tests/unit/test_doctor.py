"""``socklab doctor``'s advice in each situation a student's or a CI machine can be in.

``advise`` is pure: each test writes down a situation as Facts (what ``gather`` would
find there) and reads the advice, with no engine needed.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import replace

import pytest
from rich.cells import cell_len

from socklab import cli, doctor, i18n
from socklab.doctor import Facts

HEALTHY = Facts(
    engine_version="24.0.7",
    operating_system="Ubuntu 22.04",
    compose="v2",
    registry_digest="sha256:" + "a" * 64,
    nfqueue=True,
    impaired_labs=("2", "3", "6", "8"),
    free_gb=40.0,
    disk_path="/var/lib/docker",
)


def finding(facts: Facts, what: str) -> doctor.Finding:
    return next(f for f in doctor.advise(facts) if f.what == what)


def test_a_healthy_machine_has_no_problem():
    assert all(f.ok for f in doctor.advise(HEALTHY))
    assert "pull" in finding(HEALTHY, "image path").detail


@pytest.mark.parametrize(
    "system,wsl,wanted",
    [
        ("Linux", False, "sudo systemctl start docker"),
        ("Darwin", False, "open -a Docker"),
        ("Darwin", False, "colima start"),
        ("Linux", True, "WSL integration"),
    ],
)
def test_no_engine_running_says_how_to_start_one_on_that_system(system, wsl, wanted):
    facts = Facts(
        system=system,
        wsl=wsl,
        compose="v2",
        engine_error="Error while fetching server API version: ('Connection aborted.', "
        "FileNotFoundError(2, 'No such file or directory'))",
    )
    engine = finding(facts, "Docker engine")
    assert not engine.ok and "no Docker engine is running" in engine.detail
    assert wanted in engine.fix
    assert [f.what for f in doctor.advise(facts)] == ["Docker engine", "Docker Compose"]


def test_permission_denied_on_the_socket_is_the_docker_group():
    facts = Facts(engine_error="('Connection aborted.', PermissionError(13, 'Permission denied'))")
    engine = finding(facts, "Docker engine")
    assert not engine.ok and "sudo usermod -aG docker $USER" in engine.fix and "log out" in engine.fix


def test_a_remote_engine_is_named_and_a_dead_one_says_where_it_looked():
    remote = replace(HEALTHY, docker_host="tcp://10.0.0.5:2375")
    assert finding(remote, "Docker engine").ok
    assert "remote at DOCKER_HOST=tcp://10.0.0.5:2375" in finding(remote, "Docker engine").detail
    dead = Facts(docker_host="ssh://me@box", engine_error="Connection refused")
    assert "unset DOCKER_HOST" in finding(dead, "Docker engine").fix
    colima = Facts(context="colima", engine_error="Connection refused", system="Darwin")
    assert "docker context use default" in finding(colima, "Docker engine").fix


def test_docker_desktop_is_recognised():
    desktop = replace(HEALTHY, operating_system="Docker Desktop", system="Darwin")
    assert finding(desktop, "Docker engine").detail.endswith("Docker Desktop")


@pytest.mark.parametrize("flavour,ok", [("v2", True), ("v1", True), (None, False)])
def test_compose_v1_v2_or_none(flavour, ok):
    found = finding(replace(HEALTHY, compose=flavour), "Docker Compose")
    assert found.ok is ok and (ok or "docker-compose-plugin" in found.fix)


def test_no_registry_as_a_student_says_what_to_do_and_as_root_builds_offline():
    offline = replace(HEALTHY, registry_digest=None, registry_error="no such host")
    student = finding(offline, "image path")
    assert not student.ok and "SOCKLAB_BASE_IMAGE" in student.fix
    assert "sudo apt-get install debootstrap && sudo make images" in student.fix
    root = finding(replace(offline, debootstrap=True, is_root=True), "image path")
    assert root.ok and "debootstrap" in root.detail
    here = finding(replace(offline, root_local="socklab-debian-root:bookworm"), "image path")
    assert here.ok


def test_no_nfqueue_names_the_labs_that_cannot_run():
    found = finding(replace(HEALTHY, nfqueue=False, nfqueue_error="EPERM"), "NFQUEUE")
    assert not found.ok and not found.needed and "labs 2, 3, 6, 8 cannot run" in found.detail
    assert "modprobe nfnetlink_queue" in found.fix


def test_little_disk_space_is_a_problem():
    found = finding(replace(HEALTHY, free_gb=0.7), "disk")
    assert not found.ok and "docker system prune" in found.fix


def test_the_impaired_labs_are_read_from_the_labs():
    assert doctor._impaired_labs() == ("2", "3", "6", "8")


CJK = re.compile(r"[\u4e00-\u9fff]")
PROBLEMS = {  # a situation, and what its advice must keep as it is in every language
    "no engine": (
        Facts(engine_error="FileNotFoundError(2, 'No such file or directory')"),
        "sudo systemctl start docker",
    ),
    "docker group": (
        Facts(engine_error="PermissionError(13, 'Permission denied')"),
        "sudo usermod -aG docker $USER",
    ),
    "no registry": (
        replace(HEALTHY, registry_digest=None, registry_error="no such host"),
        "sudo apt-get install debootstrap && sudo make images",
    ),
    "no NFQUEUE": (replace(HEALTHY, nfqueue=False, nfqueue_error="EPERM"), "sudo modprobe nfnetlink_queue"),
    "little disk": (replace(HEALTHY, free_gb=0.7), "docker system prune"),
}


@pytest.mark.parametrize("situation", PROBLEMS)
def test_the_advice_reads_in_chinese_when_asked_and_in_english_otherwise(situation):
    facts, command = PROBLEMS[situation]
    with i18n.using("zh_CN"):
        zh = [f for f in doctor.advise(facts) if not f.ok]
        text = doctor.render(doctor.advise(facts))
    with i18n.using(None):
        en = [f for f in doctor.advise(facts) if not f.ok]
        english = doctor.render(doctor.advise(facts))
    assert [f.what for f in zh] == [f.what for f in en]  # the names stay English keys
    for found in zh:
        assert CJK.search(found.detail) and CJK.search(found.fix), found
    assert any(command in found.fix for found in zh)  # the command as it is typed
    assert "解决办法：" in text and "fix:" not in text
    assert not CJK.search(english) and "fix: " in english


def test_the_chinese_report_keeps_its_columns_and_names_in_chinese():
    with i18n.using("zh_CN"):
        findings = doctor.advise(replace(HEALTHY, free_gb=0.7))
        text = doctor.render(findings)
    lines = text.splitlines()
    assert lines[0].startswith("正常 Docker 引擎") and "磁盘" in text and "镜像来源" in text
    assert lines[-2].startswith("异常 磁盘") and lines[-1].lstrip().startswith("解决办法：")
    heads = [line for line in lines if not line.startswith(" ")]
    columns = {cell_len(line[: line.index(f.detail)]) for line, f in zip(heads, findings, strict=True)}
    assert len(columns | {cell_len(lines[-1]) - cell_len(lines[-1].lstrip())}) == 1  # one column


def test_the_english_report_is_laid_out_as_before():
    text = doctor.render(doctor.advise(replace(HEALTHY, nfqueue=False, nfqueue_error="EPERM")))
    assert "ok  Docker engine    24.0.7, local" in text
    assert "\n--  NFQUEUE          binding a queue failed (EPERM)" in text
    assert "\n                     fix: a kernel with CONFIG_NETFILTER_NETLINK_QUEUE" in text


def test_socklab_doctor_takes_lang(monkeypatch, capsys):
    monkeypatch.setenv("SOCKLAB_LANG", "en")  # --lang sets it for the processes socklab starts
    monkeypatch.setattr(doctor, "gather", lambda: replace(HEALTHY, free_gb=0.7))
    try:
        assert cli.main(["doctor", "--lang", "zh_CN"]) == 2
    finally:
        i18n.set_language("en")
    assert "异常 磁盘" in capsys.readouterr().out


@pytest.mark.parametrize("situation", PROBLEMS)
def test_doctor_json_gives_scripts_the_verdict_findings_and_facts(situation, monkeypatch, capsys):
    facts, command = PROBLEMS[situation]
    monkeypatch.setattr(doctor, "gather", lambda: facts)
    monkeypatch.setenv("SOCKLAB_LANG", "en")
    try:
        code = cli.main(["doctor", "--json", "--lang", "zh_CN"])
    finally:
        i18n.set_language("en")
    printed = json.loads(capsys.readouterr().out)
    broken = [f for f in printed["findings"] if not f["ok"]]
    assert code == (0 if printed["ok"] else 2)
    assert printed["ok"] == (not any(f["needed"] for f in broken))
    assert broken and any(command in f["fix"] for f in broken)
    assert {f["what"] for f in printed["findings"]} <= {
        "Docker engine",
        "Docker Compose",
        "image path",
        "NFQUEUE",
        "disk",
    }  # keys, in every language
    assert printed["facts"] == json.loads(json.dumps(dataclasses.asdict(facts)))
