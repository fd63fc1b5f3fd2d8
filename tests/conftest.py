"""Session-wide fixtures: the real servers. People and teams live in tests/fixtures.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.services import Servers, Stack, free_port, start_all

pytest_plugins = ["tests.fixtures"]


def pytest_sessionfinish(session: pytest.Session) -> None:
    """A test worker's own runtime folder (config/settings.py names it after the run) goes with the run."""
    import os
    import shutil
    import tempfile
    from pathlib import Path

    from django.conf import settings

    root = Path(tempfile.gettempdir()) / f"dbdeck-tests-{os.getuid()}"
    if os.environ.get("PYTEST_XDIST_WORKER") and root in Path(settings.VAR_DIR).parents:
        shutil.rmtree(settings.VAR_DIR, ignore_errors=True)


@pytest.fixture(scope="session")
def servers() -> Iterator[Servers]:
    stack = Stack()
    try:
        yield start_all(stack)
    finally:
        stack.stop()


@pytest.fixture
def closed_port() -> int:
    return free_port()


@pytest.fixture(autouse=True)
def _no_leftover_self_timings() -> None:
    """dbdeck's own statement timings wait in a per-process buffer until flushed; a test starts with none.

    Primary keys repeat after each test's rollback, so a timing left by the test before would be counted
    for this test's connection of the same pk.
    """
    from monitoring import selflog

    selflog.discard()


@pytest.fixture(autouse=True)
def _eager_celery(settings: Any) -> None:
    """Tasks run in the test process, so their effects are visible to the test that queued them."""
    from config.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
