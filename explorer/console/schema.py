"""Names for the editor's completion: namespaces, tables and the columns of descriptions already cached."""

from __future__ import annotations

from django.core.cache import cache

from connections.access import Access
from connections.engines import EngineError
from connections.engines.browse import TableBrowsing
from explorer import catalog
from explorer.views.common import engine

MAX_OBJECTS = 300
CACHE_SECONDS = 60


def completion_words(access: Access) -> list[str]:
    connection = access.connection
    stamp = connection.updated_at.timestamp() if connection.updated_at else 0
    key = f"dbdeck:console-words:{connection.pk}:{stamp}:{int(access.can_write)}"
    words: list[str] | None = cache.get(key)
    if words is not None:
        return words
    found: list[str] = []
    try:
        with engine(access) as adapter:
            browsing = adapter.get(TableBrowsing)
            if browsing is not None:
                for ns in browsing.namespaces()[:20]:
                    found.append(ns.name)
                    for obj in browsing.objects(ns.name).items[:MAX_OBJECTS]:
                        found.append(obj.name)
                        info = catalog.cached(connection, not access.can_write, ns.name, obj.name)
                        if info is not None:
                            found.extend(c.name for c in info.columns)
                    if len(found) > MAX_OBJECTS * 4:
                        break
    except EngineError:
        return []
    words = sorted(set(found))
    cache.set(key, words, CACHE_SECONDS)
    return words
