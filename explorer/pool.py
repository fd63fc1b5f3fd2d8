"""A small per-process pool of open adapters, so a page does not pay for a new login each time.

Keyed by connection, its last change and read-only-ness, so a viewer never gets an
editor's session and a changed credential never reuses an old one. An adapter goes
back only after a request that raised nothing; idle ones close after IDLE_SECONDS.

An adapter back within the last CHECK_AFTER_SECONDS goes out again without a health check
(a round trip to the server or more per page otherwise), as PgBouncer's server_check_delay
does; a server that dropped the session in that window fails that page's statement, the
adapter is closed and the next page opens a new session (PostgreSQL's page reads reconnect
and retry once by themselves).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from connections.models import Connection

IDLE_SECONDS = 60.0
CHECK_AFTER_SECONDS = 10.0
MAX_IDLE_PER_KEY = 4

_lock = threading.Lock()
_idle: dict[tuple[Any, ...], list[tuple[float, Any]]] = {}


def _key(connection: Connection, read_only: bool) -> tuple[Any, ...]:
    return (connection.pk, connection.updated_at, read_only)


def _reap(now: float) -> list[Any]:
    """Take out adapters idle too long (the caller closes them outside the lock)."""
    stale = []
    for key in list(_idle):
        keep = [(t, a) for t, a in _idle[key] if now - t < IDLE_SECONDS]
        stale.extend(a for t, a in _idle[key] if now - t >= IDLE_SECONDS)
        if keep:
            _idle[key] = keep
        else:
            del _idle[key]
    return stale


@contextmanager
def checkout(connection: Connection, read_only: bool) -> Iterator[Any]:
    key = _key(connection, read_only)
    now = time.monotonic()
    adapter = None
    returned = now
    with _lock:
        stale = _reap(now)
        if _idle.get(key):
            returned, adapter = _idle[key].pop()
    for old in stale:
        old.close()
    if adapter is not None and now - returned >= CHECK_AFTER_SECONDS and not adapter.healthy():
        adapter.close()
        adapter = None
    if adapter is None:
        adapter = connection.adapter(read_only=read_only)
    try:
        yield adapter
    except BaseException:
        adapter.close()
        raise
    if not adapter.reset():
        adapter.close()
        return
    with _lock:
        bucket = _idle.setdefault(key, [])
        if len(bucket) < MAX_IDLE_PER_KEY:
            bucket.append((time.monotonic(), adapter))
            return
    adapter.close()


def clear() -> None:
    with _lock:
        adapters = [a for bucket in _idle.values() for _, a in bucket]
        _idle.clear()
    for adapter in adapters:
        adapter.close()
