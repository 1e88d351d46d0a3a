"""``socklab doctor``'s advice in each situation a student's or a CI machine can be in.

``advise`` is pure: each test writes down a situation as Facts (what ``gather`` would
find there) and reads the advice, with no engine needed.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from socklab import doctor
from socklab.doctor import Facts

HEALTHY = Facts(engine_version="24.0.7", operating_system="Ubuntu 22.04", compose="v2",
                registry_digest="sha256:" + "a" * 64, nfqueue=True, impaired_labs=("2", "3", "6", "8"),
                free_gb=40.0, disk_path="/var/lib/docker")


def finding(facts: Facts, what: str) -> doctor.Finding:
    return next(f for f in doctor.advise(facts) if f.what == what)


def test_a_healthy_machine_has_no_problem():
    assert all(f.ok for f in doctor.advise(HEALTHY))
    assert "pull" in finding(HEALTHY, "image path").detail


@pytest.mark.parametrize("system,wsl,wanted", [
    ("Linux", False, "sudo systemctl start docker"),
    ("Darwin", False, "open -a Docker"),
    ("Darwin", False, "colima start"),
    ("Linux", True, "WSL integration"),
])
def test_no_engine_running_says_how_to_start_one_on_that_system(system, wsl, wanted):
    facts = Facts(system=system, wsl=wsl, compose="v2",
                  engine_error="Error while fetching server API version: ('Connection aborted.', "
                               "FileNotFoundError(2, 'No such file or directory'))")
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
