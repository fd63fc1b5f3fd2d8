"""The adapter pool reuses sessions only where that is safe."""

from __future__ import annotations

from typing import Any

import pytest

from connections.models import Connection
from explorer import pool


@pytest.fixture(autouse=True)
def empty_pool() -> Any:
    pool.clear()
    yield
    pool.clear()


def test_a_returned_adapter_is_reused_for_the_same_role(acme_sqlite: Connection) -> None:
    with pool.checkout(acme_sqlite, read_only=False) as first:
        first.check()
    with pool.checkout(acme_sqlite, read_only=False) as second:
        assert second is first


def test_viewers_never_get_an_editors_session(acme_sqlite: Connection) -> None:
    with pool.checkout(acme_sqlite, read_only=False) as editor:
        editor.check()
    with pool.checkout(acme_sqlite, read_only=True) as viewer:
        assert viewer is not editor and viewer.params.extra.get("read_only")


def test_a_changed_connection_gets_a_new_session(acme_sqlite: Connection) -> None:
    with pool.checkout(acme_sqlite, read_only=False) as before:
        before.check()
    acme_sqlite.username = "changed"
    acme_sqlite.save()
    with pool.checkout(acme_sqlite, read_only=False) as after:
        assert after is not before


def test_an_adapter_that_saw_an_error_is_closed_not_returned(acme_sqlite: Connection) -> None:
    with pytest.raises(RuntimeError), pool.checkout(acme_sqlite, read_only=False) as broken:
        raise RuntimeError("boom")
    with pool.checkout(acme_sqlite, read_only=False) as fresh:
        assert fresh is not broken


def test_idle_adapters_are_closed_after_the_idle_time(acme_sqlite: Connection, monkeypatch: Any) -> None:
    with pool.checkout(acme_sqlite, read_only=False) as first:
        first.check()
    monkeypatch.setattr(pool, "IDLE_SECONDS", -1.0)
    with pool.checkout(acme_sqlite, read_only=False) as second:
        assert second is not first
    assert first._db is None  # closed
