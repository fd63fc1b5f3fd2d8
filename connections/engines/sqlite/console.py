"""The SQLite console: the cursor steps through rows as they are fetched; cancel is `interrupt()`."""

from __future__ import annotations

import re
import sqlite3
import time
from typing import Any

from connections.engines.sqlconsole import SQLITE, SqlConsole, Statement

VACUUM_INTO = re.compile(r"\s*VACUUM\b.*\bINTO\b", re.I | re.S)


def _authorizer(action: int, *args: Any) -> int:
    """ATTACH (and DETACH) reach files the path policy never approved: denied for everybody."""
    if action in (sqlite3.SQLITE_ATTACH, sqlite3.SQLITE_DETACH):
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


class SQLiteConsole(SqlConsole):
    language = "sql"
    isolation_levels = ("deferred", "immediate", "exclusive")
    rules = SQLITE

    def _cursor(self, statement: Statement) -> Any:
        db = self.adapter._conn()
        db.set_authorizer(_authorizer)
        if VACUUM_INTO.match(statement.text):
            raise sqlite3.DatabaseError("VACUUM INTO writes a file outside dbdeck's SQLite roots: refused.")
        return db.cursor()

    def _set_timeout(self, timeout: float) -> None:
        """Nothing to send: the adapter's progress handler stops a statement past its deadline."""

    def execute(self, text: str, *, timeout: float, batch: int = 1000) -> Any:
        self.adapter._deadline = time.monotonic() + timeout
        try:
            yield from super().execute(text, timeout=timeout, batch=batch)
        finally:
            self.adapter._deadline = 0.0

    def _cancel(self) -> None:
        db = self.adapter._db
        if db is not None:
            db.interrupt()

    def _message(self, exc: Exception) -> str:
        if not self._cancelled.is_set() and "interrupted" in str(exc).lower():
            return f"The statement ran past its {self._timeout:g} s timeout and was stopped."
        return super()._message(exc)

    def _begin_sql(self, isolation: str) -> list[str]:
        return [f"BEGIN {(isolation or 'deferred').upper()}"]
