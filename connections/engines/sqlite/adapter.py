"""SQLite through the standard library: files opened by URI, read-only for viewers, a deadline per statement."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.request import pathname2url

from connections.engines.base import (
    ConnectionParams,
    EngineError,
    ServerInfo,
    first_line,
    read_only_refusal,
    refuse_nul,
)
from connections.engines.browse import TableBrowsing
from connections.engines.capabilities import Backup, Console, Explain, IndexTools, Monitor
from connections.engines.sqlbase import TAG, SqlAdapter
from connections.engines.sqlite.introspection import SQLiteIntrospection
from connections.engines.sqlkeyset import Dialect

PROGRESS_OPS = 20_000


class SQLiteAdapter(SqlAdapter):
    engine = "sqlite"
    display_name = "SQLite"
    capabilities = {
        TableBrowsing: "connections.engines.sqlite.browsing.SQLiteBrowsing",
        Explain: "connections.engines.sqlite.explain.SQLiteExplain",
        IndexTools: "connections.engines.sqlite.indexes.SQLiteIndexTools",
        Backup: "connections.engines.sqlite.backup.SQLiteBackup",
        Monitor: "connections.engines.sqlite.monitor.SQLiteMonitor",
        Console: "connections.engines.sqlite.console.SQLiteConsole",
    }
    form_fields = ("database",)
    form_labels = {"database": "File path"}
    default_port = None
    default_tls = "disable"  # a local file: no network, no TLS
    database_is_file = True
    dialect = Dialect(
        quote_mark='"',
        placeholder="?",
        row_values=sqlite3.sqlite_version_info >= (3, 15),
    )
    vendor = "SQLite"
    introspection_class = SQLiteIntrospection
    driver_error = sqlite3.Error

    def __init__(self, params: ConnectionParams) -> None:
        super().__init__(params)
        self._deadline = 0.0

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            path = Path(self.params.database)
            refuse_nul(str(path))
            if not path.is_file():
                raise EngineError(f"There is no SQLite file at {str(path)!r}.", kind="database")
            mode = "ro" if self.params.extra.get("read_only") else "rw"
            try:
                db = sqlite3.connect(
                    f"file:{pathname2url(str(path))}?mode={mode}",
                    uri=True,
                    timeout=self.params.connect_timeout,
                    check_same_thread=False,
                    isolation_level="DEFERRED",
                )
                if mode == "ro":
                    db.execute("PRAGMA query_only = ON")
                db.execute("PRAGMA foreign_keys = ON")
                db.text_factory = self._text
            except sqlite3.Error as exc:
                raise EngineError(f"SQLite could not open the file: {first_line(exc)}", kind="database") from None
            # SQLite has no statement timeout; a progress handler enforces ours.
            db.set_progress_handler(self._over_time, PROGRESS_OPS)
            self._db = db
        return self._db

    @staticmethod
    def _text(raw: bytes) -> str | bytes:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw  # invalid UTF-8 stays bytes and shows as binary

    def _over_time(self) -> int:
        return 1 if self._deadline and time.monotonic() > self._deadline else 0

    def _translate(self, exc: sqlite3.Error) -> EngineError:
        text = first_line(exc)
        low = text.lower()
        if "readonly" in low or "read-only" in low or "attempt to write" in low:
            return read_only_refusal()
        if "interrupted" in low:
            return EngineError(
                f"The statement ran past the {self.params.statement_timeout:g} s timeout and was stopped.",
                kind="timeout",
            )
        if "no such table" in low:
            return EngineError(text, kind="database")
        if "database is locked" in low:
            return EngineError("The SQLite file is locked by another writer; try again.", kind="timeout")
        return EngineError(f"SQLite said: {text}", kind="config")

    def check(self) -> ServerInfo:
        db = self._conn()
        started = time.perf_counter()
        try:
            db.execute(TAG + "SELECT count(*) FROM sqlite_schema").fetchone()
        except sqlite3.DatabaseError as exc:
            raise EngineError(f"This file is not a usable SQLite database: {first_line(exc)}", "database") from None
        latency = (time.perf_counter() - started) * 1000
        return ServerInfo(version=f"SQLite {sqlite3.sqlite_version}", latency_ms=latency)

    # ---- SqlAdapter hooks ----------------------------------------------------------------
    def _execute(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        db = self._conn()
        self._deadline = time.monotonic() + self.params.statement_timeout
        try:
            with self._driver_errors(rollback=True):
                cur = db.execute(TAG + sql, list(args))
                rows = cur.fetchall()
                self._rows_affected = cur.rowcount
                return rows
        finally:
            self._deadline = 0.0

    def _stream(self, sql: str, args: Sequence[Any]) -> Iterator[tuple[Any, ...]]:
        # Exports are long by nature: no per-statement deadline, rows arrive as the cursor steps.
        with self._driver_errors(rollback=False):
            cur = self._conn().execute(TAG + sql, list(args))
            while rows := cur.fetchmany(2000):
                yield from rows
