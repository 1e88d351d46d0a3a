"""Shared fixtures: a Docker gate for the integration tests, and the images built once."""

from __future__ import annotations

import functools
import os
import tempfile

import pytest

from socklab import engine, images
from socklab.errors import PlatformError

pytest_plugins = ["pytester"]


@functools.cache
def docker_reason() -> str | None:
    """Why Docker tests cannot run here, or None when they can."""
    try:
        engine.client()
    except PlatformError as exc:
        return str(exc)
    return None


def pytest_configure(config: pytest.Config) -> None:
    # the runs of the test suite keep their artifacts out of the work tree
    # English whatever the developer's locale (LANG=zh_CN.UTF-8): the tests read English
    os.environ["SOCKLAB_LANG"] = "en"
    if not os.environ.get("SOCKLAB_RUNS"):
        os.environ["SOCKLAB_RUNS"] = tempfile.mkdtemp(prefix="socklab-test-runs-")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("docker") and docker_reason():
            item.add_marker(pytest.mark.skip(reason=f"needs Docker: {docker_reason()}"))


@pytest.fixture(scope="session")
def built_images() -> None:
    """socklab's images, built once if missing or stale (the first build takes a minute)."""
    images.ensure(images.ALL)
