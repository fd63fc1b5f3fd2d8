"""SQLite monitoring: the file's health (size, free pages, WAL); its statements are dbdeck's own.

SQLite keeps no statement statistics, so the statement history of a SQLite connection is
the timings dbdeck records of its own statements (grid, console, exports); the collector
merges those. This capability reports the file itself.
"""

from __future__ import annotations

import datetime as dt
import os

from connections.engines.capabilities import Monitor
from connections.engines.results import Metric, SessionInfo, Snapshot


class SQLiteMonitor(Monitor):
    statement_source = "dbdeck's own statements against the file"
    own_statements = True

    def snapshot(self, position: str | None = None, known: frozenset[str] = frozenset()) -> Snapshot:
        snap = Snapshot(taken_at=dt.datetime.now(dt.UTC))
        execute = self.adapter._execute  # type: ignore[attr-defined]
        try:
            (pages,) = execute("PRAGMA page_count")[0]
            (size,) = execute("PRAGMA page_size")[0]
            (free,) = execute("PRAGMA freelist_count")[0]
        finally:
            self.adapter._rollback()  # type: ignore[attr-defined]
        snap.queries = 3
        snap.metrics.append(Metric("database_bytes", float(pages * size)))
        snap.metrics.append(Metric("free_bytes", float(free * size)))
        wal = self.adapter.params.database + "-wal"
        if os.path.exists(wal):
            snap.metrics.append(Metric("wal_bytes", float(os.path.getsize(wal))))
        snap.notices.append(
            "SQLite keeps no statement statistics: the slow queries shown are dbdeck's own statements on this file."
        )
        return snap

    def sessions(self) -> list[SessionInfo]:
        return []  # an embedded file has no server sessions
