"""Table descriptions cached briefly across requests: the catalog costs more than a page."""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.cache import cache

from connections.engines import EngineError, cursor
from connections.engines.browse import TableInfo
from connections.models import Connection

CACHE_SECONDS = 60


def _key(connection: Connection, read_only: bool, ns: str, obj: str) -> str:
    digest = hashlib.sha256(f"{ns}\x00{obj}".encode()).hexdigest()[:32]
    stamp = connection.updated_at.timestamp() if connection.updated_at else 0
    return f"dbdeck:describe:{connection.pk}:{stamp}:{int(read_only)}:{digest}"


def describe(connection: Connection, adapter: Any, ns: str, obj: str) -> TableInfo:
    """The adapter's description of ns.obj, from the cache when fresh (and handed back to the adapter)."""
    key = _key(connection, bool(adapter.params.extra.get("read_only")), ns, obj)
    info: TableInfo | None = cache.get(key)
    if info is None:
        info = adapter.describe(ns, obj)
        cache.set(key, info, CACHE_SECONDS)
    else:
        adapter.prime(info)
    return info


def forget(connection: Connection, adapter: Any, ns: str, obj: str) -> None:
    """Drop a description that may be stale (the table changed under us)."""
    cache.delete(_key(connection, bool(adapter.params.extra.get("read_only")), ns, obj))


def page(connection: Connection, adapter: Any, ns: str, obj: str, request: Any) -> Any:
    if request.cursor:
        # A keyed table pages by position, a keyless one by offset: refuse a token of the other kind.
        info = describe(connection, adapter, ns, obj)
        cursor.decode(request.cursor, shape=cursor.OFFSET if info.key_kind == "none" else cursor.POSITION)
    try:
        return adapter.page(ns, obj, request)
    except EngineError:
        forget(connection, adapter, ns, obj)
        raise
