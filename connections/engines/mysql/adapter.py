"""MySQL and MariaDB through PyMySQL (`local_infile` always off): connect, session limits, errors, check."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any

import pymysql
import pymysql.cursors

from connections.engines.base import (
    ConnectionParams,
    EngineError,
    ServerInfo,
    first_line,
    read_only_refusal,
    refuse_nul,
    unreachable,
    wrong_credentials,
)
from connections.engines.browse import TableBrowsing
from connections.engines.capabilities import Backup, Console, Explain, IndexTools, Monitor
from connections.engines.mysql.introspection import MySQLIntrospection
from connections.engines.partitions import Partitioning
from connections.engines.sqlbase import TAG, SqlAdapter
from connections.engines.sqlkeyset import Dialect

AUTH_ERRORS = {1045, 1044, 1698}
UNREACHABLE_ERRORS = {2002, 2003, 2005, 2006, 2013}
READ_ONLY_ERRORS = {1792, 1290, 1036}
TIMEOUT_ERRORS = {3024, 1969, 1317}
TLS_ERRORS = {3159, 2026}


class MySQLAdapter(SqlAdapter):
    engine = "mysql"
    display_name = "MySQL / MariaDB"
    capabilities = {
        TableBrowsing: "connections.engines.mysql.browsing.MySQLBrowsing",
        Explain: "connections.engines.mysql.explain.MySQLExplain",
        IndexTools: "connections.engines.mysql.indexes.MySQLIndexTools",
        Partitioning: "connections.engines.mysql.introspection.MySQLPartitioning",
        Backup: "connections.engines.mysql.backup.MySQLBackup",
        Monitor: "connections.engines.mysql.monitor.MySQLMonitor",
        Console: "connections.engines.mysql.console.MySQLConsole",
    }
    form_fields = ("host", "port", "database", "username", "password", "tls_mode")
    default_port = 3306
    default_tls = "prefer"
    dialect = Dialect(
        quote_mark="`",
        placeholder="%s",
        row_values=False,
        null_range_key_order=True,
        as_text="CAST({} AS CHAR)",
        like="LIKE",
        like_escape="",
    )
    vendor = "MySQL"
    introspection_class = MySQLIntrospection
    driver_error = pymysql.MySQLError

    def __init__(self, params: ConnectionParams) -> None:
        super().__init__(params)
        self.is_mariadb = False

    def _conn(self) -> Any:
        if self._db is None:
            p = self.params
            refuse_nul(p.database, p.username, p.password)
            ssl: dict[str, Any] | None = None
            if p.tls_mode in ("require", "verify-full"):
                ssl = {"check_hostname": p.tls_mode == "verify-full"}
                if p.tls_mode != "verify-full":
                    ssl["verify_mode"] = False  # encrypted, not verified: what "require" means in libpq too
            started = time.monotonic()
            try:
                self._db = pymysql.connect(
                    host=p.address or p.host,
                    port=p.port or self.default_port,
                    user=p.username or None,
                    password=p.password or "",
                    database=p.database or None,
                    connect_timeout=p.connect_timeout,
                    read_timeout=p.statement_timeout + 5,
                    write_timeout=p.statement_timeout + 5,
                    charset="utf8mb4",
                    local_infile=False,
                    autocommit=False,
                    ssl=ssl,
                    program_name="dbdeck",
                )
            except pymysql.MySQLError as exc:
                raise self._connect_error(exc, time.monotonic() - started) from None
            self._session_setup()
        return self._db

    def _session_setup(self) -> None:
        p = self.params
        with self._db.cursor() as cur:
            cur.execute("SELECT VERSION()")
            self.version = str(cur.fetchone()[0])
            self.is_mariadb = "mariadb" in self.version.lower()
            if self.is_mariadb:
                cur.execute("SET SESSION max_statement_time = %s", [float(p.statement_timeout)])
            else:
                cur.execute("SET SESSION max_execution_time = %s", [int(p.statement_timeout * 1000)])
            if p.extra.get("read_only"):
                cur.execute("SET SESSION TRANSACTION READ ONLY")

    def _code(self, exc: Exception) -> int:
        return int(exc.args[0]) if exc.args and isinstance(exc.args[0], int) else 0

    def _connect_error(self, exc: Exception, elapsed: float) -> EngineError:
        code, p = self._code(exc), self.params
        if code in AUTH_ERRORS:
            return wrong_credentials(p)
        if code == 1049:
            return EngineError(f"The database {p.database!r} does not exist on this server.", kind="database")
        if code in TLS_ERRORS or "ssl" in str(exc).lower():
            return EngineError(
                "The server requires TLS (or the TLS handshake failed): set TLS to “require”.", kind="tls"
            )
        if code in UNREACHABLE_ERRORS or elapsed >= p.connect_timeout:
            return unreachable(p)
        return EngineError(f"MySQL refused the connection: {first_line(exc.args[-1] if exc.args else exc)}", "unknown")

    def _translate(self, exc: Exception) -> EngineError:
        code = self._code(exc)
        message = first_line(exc.args[-1] if exc.args else exc)
        if code in READ_ONLY_ERRORS:
            return read_only_refusal()
        if code in TIMEOUT_ERRORS:
            return EngineError(
                f"The statement ran past the {self.params.statement_timeout:g} s timeout and was stopped.",
                kind="timeout",
            )
        if code in (1146, 1049):
            return EngineError(message, kind="database")
        if code in (1142, 1143, 1227):
            return EngineError(f"Permission denied: {message}", kind="permission")
        if code in UNREACHABLE_ERRORS:
            return unreachable(self.params)
        return EngineError(f"MySQL said: {message}", kind="config")

    def check(self) -> ServerInfo:
        conn = self._conn()
        try:
            with conn.cursor() as cur:
                started = time.perf_counter()
                cur.execute(TAG + "SELECT 1")
                cur.fetchone()
                latency = (time.perf_counter() - started) * 1000
        except pymysql.MySQLError as exc:
            raise self._translate(exc) from None
        name = "MariaDB" if self.is_mariadb else "MySQL"
        return ServerInfo(version=f"{name} {self.version}", latency_ms=latency)

    # ---- SqlAdapter hooks ----------------------------------------------------------------
    def _execute(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        conn = self._conn()
        with self._driver_errors(rollback=True), conn.cursor() as cur:
            self._rows_affected = cur.execute(TAG + sql, list(args))
            return list(cur.fetchall()) if cur.description else []

    def _stream(self, sql: str, args: Sequence[Any]) -> Iterator[tuple[Any, ...]]:
        conn = self._conn()
        with self._driver_errors(rollback=False), conn.cursor(pymysql.cursors.SSCursor) as cur:
            cur.execute(TAG + sql, list(args))
            while rows := cur.fetchmany(2000):
                yield from rows
