"""The PostgreSQL console: named (server-side) cursors, the session's statement_timeout, the cancel request."""

from __future__ import annotations

import uuid
from typing import Any

from psycopg2 import errors as pgerrors

from connections.engines.sqlbase import TAG
from connections.engines.sqlconsole import POSTGRESQL, SqlConsole, Statement

# Statements DECLARE accepts; anything else (writes, DDL, SHOW, writable CTEs) runs on a plain cursor.
CURSOR_HEADS = {"SELECT", "VALUES", "TABLE", "WITH"}
ISOLATION = {"read committed": "READ COMMITTED", "repeatable read": "REPEATABLE READ", "serializable": "SERIALIZABLE"}


class PostgreSQLConsole(SqlConsole):
    language = "sql"
    isolation_levels = tuple(ISOLATION)
    rules = POSTGRESQL

    def _cursor(self, statement: Statement) -> Any:
        conn = self.adapter._conn()
        if statement.head in CURSOR_HEADS and not _writes(statement.text):
            cur = conn.cursor(name=f"dbdeck_console_{uuid.uuid4().hex[:12]}")
            cur.itersize = 1000
            return cur
        return conn.cursor()

    def _set_timeout(self, timeout: float) -> None:
        conn = self.adapter._conn()
        with conn.cursor() as cur:
            cur.execute(TAG + "SELECT set_config('statement_timeout', %s, false)", [f"{int(timeout * 1000)}ms"])
        if not self.in_transaction:
            conn.commit()

    def _cancel(self) -> None:
        db = self.adapter._db
        if db is not None and not db.closed:
            db.cancel()  # libpq's cancel request on its own connection: safe from another thread

    def _position(self, exc: Exception, statement: Statement) -> int | None:
        diag = getattr(exc, "diag", None)
        raw = getattr(diag, "statement_position", None)
        if raw and str(raw).isdigit():
            return statement.start + max(0, int(raw) - 1 - len(TAG))
        return statement.start

    def _message(self, exc: Exception) -> str:
        if isinstance(exc, pgerrors.QueryCanceled) and not self._cancelled.is_set():
            return "The statement ran past its timeout and the server cancelled it."
        return super()._message(exc)

    def _read_only_sql(self) -> list[str]:
        # Every statement opens its own read-only transaction, so no SET by a viewer outlives it.
        return ["SET TRANSACTION READ ONLY"]

    def _begin_sql(self, isolation: str) -> list[str]:
        level = ISOLATION.get(isolation or "read committed", "READ COMMITTED")
        if self.read_only:
            return [f"SET TRANSACTION ISOLATION LEVEL {level} READ ONLY"]
        # psycopg2 opens the transaction itself; the level must be its first statement.
        return [f"SET TRANSACTION ISOLATION LEVEL {level}"]


def _writes(text: str) -> bool:
    """A WITH that modifies data cannot be DECLAREd; it runs on a plain cursor (its rows come back whole)."""
    upper = text.upper()
    return any(f"{word} " in upper or f"{word}\n" in upper for word in ("INSERT", "UPDATE", "DELETE", "MERGE"))
