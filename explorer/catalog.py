"""Table descriptions kept briefly across requests: the catalog costs more than a page.

Kept in this process as the objects themselves (a description is never changed after it is
made): through Django's cache each page unpickled its description again, 0.2 ms of a grid page.
The key carries the connection's last change and the session's read-only-ness, as the pool's does.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from connections.engines import EngineError, cursor
from connections.engines.browse import Page, PageRequest, TableBrowsing, TableInfo
from connections.models import Connection
from monitoring import selflog

CACHE_SECONDS = 60
MAX_KEPT = 2048

_lock = threading.Lock()
_kept: dict[tuple[Any, ...], tuple[float, TableInfo]] = {}


def _key(connection: Connection, read_only: bool, ns: str, obj: str) -> tuple[Any, ...]:
    return (connection.pk, connection.updated_at, read_only, ns, obj)


def _read_only(browsing: TableBrowsing) -> bool:
    return bool(browsing.adapter.params.extra.get("read_only"))


def cached(connection: Connection, read_only: bool, ns: str, obj: str) -> TableInfo | None:
    """The description kept for ns.obj if it is still fresh, else None (nothing is read)."""
    found = _kept.get(_key(connection, read_only, ns, obj))
    if found is None or found[0] < time.monotonic():
        return None
    return found[1]


def _keep(key: tuple[Any, ...], info: TableInfo) -> None:
    now = time.monotonic()
    with _lock:
        if len(_kept) >= MAX_KEPT:
            for old in [k for k, (expires, _) in _kept.items() if expires < now]:
                del _kept[old]
            if len(_kept) >= MAX_KEPT:
                _kept.clear()
        _kept[key] = (now + CACHE_SECONDS, info)


def describe(connection: Connection, browsing: TableBrowsing, ns: str, obj: str) -> TableInfo:
    """The engine's description of ns.obj, kept when fresh (and handed back to the engine)."""
    read_only = _read_only(browsing)
    info = cached(connection, read_only, ns, obj)
    if info is None:
        info = browsing.describe(ns, obj)
        _keep(_key(connection, read_only, ns, obj), info)
    else:
        browsing.prime(info)
    return info


def forget(connection: Connection, browsing: TableBrowsing, ns: str, obj: str) -> None:
    """Drop a description that may be stale (the table changed under us)."""
    with _lock:
        _kept.pop(_key(connection, _read_only(browsing), ns, obj), None)


def page(connection: Connection, browsing: TableBrowsing, ns: str, obj: str, request: PageRequest) -> Page:
    if request.cursor:
        # A keyed table pages by position, a keyless one by offset: refuse a token of the other kind.
        info = describe(connection, browsing, ns, obj)
        cursor.decode(request.cursor, shape=cursor.OFFSET if info.key_kind == "none" else cursor.POSITION)
    try:
        started = time.perf_counter()
        found = browsing.page(ns, obj, request)
        # Engines without statement statistics (SQLite) learn their slow queries from dbdeck's own.
        selflog.observe(connection, browsing.adapter, selflog.grid_text(ns, obj, request), started)
        return found
    except EngineError:
        forget(connection, browsing, ns, obj)
        raise
