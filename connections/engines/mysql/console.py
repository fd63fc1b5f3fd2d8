"""The MySQL / MariaDB console: unbuffered SSCursor, the session's statement time limit, KILL QUERY to cancel."""

from __future__ import annotations

import re
from typing import Any

import pymysql
import pymysql.cursors

from connections.engines.sqlbase import TAG
from connections.engines.sqlconsole import MYSQL, SqlConsole, Statement

ISOLATION = {"read committed": "READ COMMITTED", "repeatable read": "REPEATABLE READ", "serializable": "SERIALIZABLE"}
SERVER_FILES = re.compile(r"\bINTO\s+(OUTFILE|DUMPFILE)\b|\bLOAD\s+(DATA|XML)\b|\bLOAD_FILE\s*\(", re.I)
NEAR = re.compile(r"near '(.{1,80}?)' at line (\d+)", re.S)


class MySQLConsole(SqlConsole):
    language = "sql"
    isolation_levels = tuple(ISOLATION)
    rules = MYSQL

    def _cursor(self, statement: Statement) -> Any:
        if self.read_only and SERVER_FILES.search(statement.text):
            # Files on the database server's disk: refused to viewers even when their credential has FILE.
            raise pymysql.err.OperationalError(
                1792, "Writing or reading server files is refused in a read-only session."
            )
        return self.adapter._conn().cursor(pymysql.cursors.SSCursor)

    def _set_timeout(self, timeout: float) -> None:
        conn = self.adapter._conn()
        with conn.cursor() as cur:
            if getattr(self.adapter, "is_mariadb", False):
                cur.execute(TAG + "SET SESSION max_statement_time = %s", [float(timeout)])
            else:
                cur.execute(TAG + "SET SESSION max_execution_time = %s", [int(timeout * 1000)])
        conn._read_timeout = timeout + 5  # the socket gives up a little after the server would

    def _kill_query(self) -> None:
        """KILL QUERY on a second connection: the running statement stops, the session stays."""
        db = self.adapter._db
        if db is None:
            return
        thread_id = db.thread_id()
        side = type(self.adapter)(self.adapter.params)
        try:
            with side._conn().cursor() as cur:
                cur.execute(TAG + "KILL QUERY %s", [int(thread_id)])
        except pymysql.MySQLError:
            pass  # the statement ended on its own
        finally:
            side.close()

    def _cancel(self) -> None:
        self._kill_query()

    def _abandon(self, cur: Any) -> None:
        # An unbuffered cursor would read every remaining row to close: stop the statement first.
        self._kill_query()
        try:
            cur.close()
        except (pymysql.MySQLError, OSError):
            self.adapter.close()  # out of step with the server: the next statement reconnects

    def _position(self, exc: Exception, statement: Statement) -> int | None:
        match = NEAR.search(str(exc.args[-1] if exc.args else exc))
        if match:
            found = statement.text.find(match.group(1))
            if found >= 0:
                return statement.start + found
        return statement.start

    def _failed(self, index: int, exc: Exception, statement: Statement, started: float, cur: Any) -> Any:
        chunk = super()._failed(index, exc, statement, started, cur)
        db = self.adapter._db
        if db is not None and not db.open:
            self.adapter.close()
        return chunk

    def _read_only_sql(self) -> list[str]:
        return ["START TRANSACTION READ ONLY"]

    def _begin_sql(self, isolation: str) -> list[str]:
        level = ISOLATION.get(isolation or "repeatable read", "REPEATABLE READ")
        start = "START TRANSACTION READ ONLY" if self.adapter.params.extra.get("read_only") else "START TRANSACTION"
        return [f"SET TRANSACTION ISOLATION LEVEL {level}", start]
