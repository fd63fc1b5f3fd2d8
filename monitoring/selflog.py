"""dbdeck's own statement timings, for engines that keep no statement statistics (SQLite).

`record(connection_id, sql, ms)` is called where dbdeck runs a statement for a person (grid,
console, exports); timings are summed per normalized statement in the process and written in
small batches, and the connection's collector drains them into its slow-query history.
"""

from __future__ import annotations

import atexit
import contextlib
import threading
import time
from typing import Any

from connections.engines.capabilities import Monitor
from connections.engines.results import QueryStat
from monitoring.normalize import fingerprint, normalize_sql

FLUSH_EVERY_S = 5.0
FLUSH_AT = 200

_lock = threading.Lock()
_pending: dict[tuple[int, str], list] = {}  # (connection, key) -> [text, calls, total_ms, max_ms]
_last_flush = time.monotonic()


def record(connection_id: int, sql: str, ms: float) -> None:
    """Count one statement's time; cheap (no database write on most calls)."""
    global _last_flush
    text = normalize_sql(sql)
    key = (connection_id, fingerprint(text))
    with _lock:
        entry = _pending.setdefault(key, [text, 0, 0.0, 0.0])
        entry[1] += 1
        entry[2] += ms
        entry[3] = max(entry[3], ms)
        due = len(_pending) >= FLUSH_AT or time.monotonic() - _last_flush >= FLUSH_EVERY_S
    if due:
        flush()


def observe(connection: Any, adapter: Any, text: str, started: float) -> None:
    """Record a statement dbdeck ran for a person, if the engine's Monitor learns from dbdeck's own."""
    monitor = adapter.get(Monitor) if adapter.has(Monitor) else None
    if monitor is not None and monitor.own_statements:
        record(connection.pk, text, (time.perf_counter() - started) * 1000)


def grid_text(ns: str, obj: str, request: Any) -> str:
    """The grid statement in words a DBA recognizes (the browsing layer builds the SQL itself)."""
    order = f" ORDER BY {request.sort}{' DESC' if request.descending else ''}" if request.sort else ""
    where = " WHERE " + " AND ".join(f"{f.column} {f.op} ?" for f in request.filters) if request.filters else ""
    return f'SELECT … FROM "{ns}"."{obj}"{where}{order} LIMIT ? /* grid page */'


def flush() -> None:
    global _last_flush
    from monitoring.models import SelfTiming

    with _lock:
        batch = list(_pending.items())
        _pending.clear()
        _last_flush = time.monotonic()
    if not batch:
        return
    from connections.models import Connection

    # A connection deleted since its statements ran takes its timings with it.
    alive = set(Connection.objects.filter(pk__in={cid for cid, _ in dict(batch)}).values_list("pk", flat=True))
    SelfTiming.objects.bulk_create(
        [
            SelfTiming(connection_id=cid, key=key, text=text, calls=calls, total_ms=total, max_ms=longest)
            for (cid, key), (text, calls, total, longest) in batch
            if cid in alive
        ]
    )


def drain(connection_id: int) -> list[QueryStat]:
    """Take the connection's recorded timings out (the caller's transaction makes it all or nothing)."""
    from monitoring.models import SelfTiming

    flush()
    rows = list(SelfTiming.objects.filter(connection_id=connection_id).order_by("pk")[:10000])
    if not rows:
        return []
    SelfTiming.objects.filter(pk__in=[r.pk for r in rows]).delete()
    summed: dict[str, list] = {}
    for r in rows:
        entry = summed.setdefault(r.key, [r.text, 0, 0.0, 0.0])
        entry[1] += r.calls
        entry[2] += r.total_ms
        entry[3] = max(entry[3], r.max_ms)
    return [
        QueryStat(fingerprint="self:" + key, text=text, calls=calls, total_ms=total, extra={"max_ms": longest})
        for key, (text, calls, total, longest) in summed.items()
    ]


def discard() -> None:
    """Forget the timings not written yet (each test starts from none)."""
    with _lock:
        _pending.clear()


def _flush_at_exit() -> None:
    if _pending:
        with contextlib.suppress(Exception):  # the database may already be gone; timings are best effort
            flush()


atexit.register(_flush_at_exit)
