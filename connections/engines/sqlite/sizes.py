"""Bytes per table for the navigator, from SQLite's dbstat virtual table.

dbstat reads every page of the file, so it runs under a time budget and its answer is
kept per file version (path, size and modification time of the file and its WAL): a
page view does not rescan a 5,000,000-row file.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections import OrderedDict
from typing import Any

from connections.engines.base import EngineError
from connections.engines.sqlbase import TAG

SIZE_SECONDS = 5.0
SIZE_CACHE_FILES = 64
_cache: OrderedDict[tuple[object, ...], dict[str, int] | None] = OrderedDict()
_lock = threading.Lock()  # gunicorn's threads share the cache


def table_sizes(introspection: Any, ns: str) -> dict[str, int] | None:
    """Bytes per table, its indexes included (like pg_total_relation_size), or None without dbstat."""
    version = _file_version(introspection, ns)
    with _lock:
        if version is not None and version in _cache:
            _cache.move_to_end(version)
            return _cache[version]
    sizes = _scan(introspection, ns)
    if version is not None:
        with _lock:
            _cache[version] = sizes
            while len(_cache) > SIZE_CACHE_FILES:
                _cache.popitem(last=False)
    return sizes


def total_size_notice(introspection: Any, ns: str) -> str:
    schema = introspection.quote(ns)
    try:
        pages = introspection._execute(f"PRAGMA {schema}.page_count")[0][0]
        page_size = introspection._execute(f"PRAGMA {schema}.page_size")[0][0]
    except EngineError:
        return ""
    return (
        "Sizes per table need SQLite's dbstat table, which this build lacks or which ran out of time; "
        f"the whole database is {int(pages) * int(page_size) / 1048576:,.1f} MB."
    )


def _file_version(introspection: Any, ns: str) -> tuple[object, ...] | None:
    files = dict(introspection._execute("SELECT name, file FROM pragma_database_list"))
    path = files.get(ns)
    if not path:
        return None  # in memory: nothing to key on, and small anyway
    version: list[object] = [path]
    for name in (path, path + "-wal"):
        try:
            st = os.stat(name)
        except OSError:
            version.extend((None, None))
        else:
            version.extend((st.st_size, st.st_mtime_ns))
    return tuple(version)


def _scan(introspection: Any, ns: str) -> dict[str, int] | None:
    schema = introspection.quote(ns)
    owners = dict(
        introspection._execute(f"SELECT name, tbl_name FROM {schema}.sqlite_schema WHERE type IN ('table', 'index')")
    )
    adapter = introspection.adapter
    db = adapter._conn()
    adapter._deadline = time.monotonic() + min(adapter.params.statement_timeout, SIZE_SECONDS)
    try:
        rows = db.execute(TAG + "SELECT name, SUM(pgsize) FROM dbstat(?) GROUP BY name", [ns]).fetchall()
    except sqlite3.Error:
        return None  # compiled without dbstat, not allowed, or out of time: sizes stay blank
    finally:
        adapter._deadline = 0.0
    sizes: dict[str, int] = {}
    for name, size in rows:
        table = owners.get(name, name)
        sizes[table] = sizes.get(table, 0) + int(size or 0)
    return sizes
