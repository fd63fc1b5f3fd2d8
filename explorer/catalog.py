"""Table descriptions cached briefly across requests: the catalog costs more than a page."""

from __future__ import annotations

import hashlib
import time

from django.core.cache import cache

from connections.engines import EngineError, cursor
from connections.engines.browse import Page, PageRequest, TableBrowsing, TableInfo
from connections.models import Connection
from monitoring import selflog

CACHE_SECONDS = 60


def _key(connection: Connection, read_only: bool, ns: str, obj: str) -> str:
    digest = hashlib.sha256(f"{ns}\x00{obj}".encode()).hexdigest()[:32]
    stamp = connection.updated_at.timestamp() if connection.updated_at else 0
    return f"dbdeck:describe:{connection.pk}:{stamp}:{int(read_only)}:{digest}"


def _read_only(browsing: TableBrowsing) -> bool:
    return bool(browsing.adapter.params.extra.get("read_only"))


def describe(connection: Connection, browsing: TableBrowsing, ns: str, obj: str) -> TableInfo:
    """The engine's description of ns.obj, from the cache when fresh (and handed back to the engine)."""
    key = _key(connection, _read_only(browsing), ns, obj)
    info: TableInfo | None = cache.get(key)
    if info is None:
        info = browsing.describe(ns, obj)
        cache.set(key, info, CACHE_SECONDS)
    else:
        browsing.prime(info)
    return info


def forget(connection: Connection, browsing: TableBrowsing, ns: str, obj: str) -> None:
    """Drop a description that may be stale (the table changed under us)."""
    cache.delete(_key(connection, _read_only(browsing), ns, obj))


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
