"""PostgreSQL through psycopg2: connect with timeouts and a read-only session for viewers, errors, check."""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import psycopg2
import psycopg2.extensions
from psycopg2 import errors as pgerrors

from connections.engines.base import (
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
from connections.engines.partitions import Partitioning
from connections.engines.postgresql.introspection import PostgreSQLIntrospection
from connections.engines.sqlbase import TAG, SqlAdapter
from connections.engines.sqlkeyset import Dialect


# bytea as bytes, not memoryview, decided once per column by the driver instead of per cell.
def _bytes(value: str | None, cur: Any) -> bytes | None:
    return None if value is None else bytes(psycopg2.BINARY(value, cur))


BYTES = psycopg2.extensions.new_type(psycopg2.BINARY.values, "DBDECK_BYTES", _bytes)
SSLMODES = {"disable": "disable", "prefer": "prefer", "require": "require", "verify-full": "verify-full"}


class PostgreSQLAdapter(SqlAdapter):
    engine = "postgresql"
    display_name = "PostgreSQL"
    capabilities = {
        TableBrowsing: "connections.engines.postgresql.browsing.PostgreSQLBrowsing",
        Explain: "connections.engines.postgresql.explain.PostgreSQLExplain",
        IndexTools: "connections.engines.postgresql.indexes.PostgreSQLIndexTools",
        Partitioning: "connections.engines.postgresql.introspection.PostgreSQLPartitioning",
        Backup: "connections.engines.postgresql.backup.PostgreSQLBackup",
        Monitor: "connections.engines.postgresql.monitor.PostgreSQLMonitor",
        Console: "connections.engines.postgresql.console.PostgreSQLConsole",
    }
    form_fields = ("host", "port", "database", "username", "password", "tls_mode")
    default_port = 5432
    default_tls = "prefer"
    namespaces_title = "Schemas"
    dialect = Dialect(quote_mark='"', placeholder="%s", as_text="{}::text", like="ILIKE")
    driver_error = psycopg2.Error
    vendor = "PostgreSQL"
    introspection_class = PostgreSQLIntrospection

    # ---- connection ---------------------------------------------------------------
    def _conn(self) -> Any:
        if self._db is None:
            p = self.params
            options = f"-c statement_timeout={int(p.statement_timeout * 1000)} -c lock_timeout=10000"
            if p.extra.get("read_only"):
                options += " -c default_transaction_read_only=on"
            kwargs: dict[str, Any] = {
                "host": p.host,
                "port": p.port or self.default_port,
                "dbname": p.database or "postgres",
                "user": p.username or None,
                "password": p.password or None,
                "connect_timeout": max(2, math.ceil(p.connect_timeout)),
                "sslmode": SSLMODES.get(p.tls_mode, "prefer"),
                "application_name": "dbdeck",
                "options": options,
            }
            if p.address:
                kwargs["hostaddr"] = p.address
            refuse_nul(kwargs["dbname"], p.username, p.password)
            started = time.monotonic()
            try:
                self._db = psycopg2.connect(**kwargs)
            except psycopg2.OperationalError as exc:
                raise self._connect_error(exc, time.monotonic() - started) from None
            psycopg2.extensions.register_type(BYTES, self._db)
        return self._db

    def _connect_error(self, exc: Exception, elapsed: float) -> EngineError:
        text = str(exc)
        low = text.lower()
        p = self.params
        if "password authentication failed" in low or "no password supplied" in low:
            return wrong_credentials(p)
        if "database" in low and "does not exist" in low:
            return EngineError(f"The database {p.database!r} does not exist on this server.", kind="database")
        if "server does not support ssl" in low:
            return EngineError("The server does not support TLS: set TLS to “prefer” or “disable”.", kind="tls")
        if "no encryption" in low or "ssl" in low and ("required" in low or "handshake" in low):
            return EngineError("The server requires TLS: set TLS to “require”.", kind="tls")
        if "role" in low and "does not exist" in low:
            return wrong_credentials(p)
        if (
            "timeout expired" in low
            or "could not connect" in low
            or "connection refused" in low
            or "could not translate host name" in low
            or "no route to host" in low
            or elapsed >= p.connect_timeout
        ):
            return unreachable(p)
        return EngineError(f"PostgreSQL refused the connection: {first_line(text)}", kind="unknown")

    def _translate(self, exc: psycopg2.Error) -> EngineError:
        if isinstance(exc, pgerrors.ReadOnlySqlTransaction | pgerrors.InsufficientPrivilege):
            if isinstance(exc, pgerrors.ReadOnlySqlTransaction):
                return read_only_refusal()
            return EngineError(f"Permission denied: {first_line(exc.pgerror or exc)}", kind="permission")
        if isinstance(exc, pgerrors.QueryCanceled):
            return EngineError(
                f"The statement ran past the {self.params.statement_timeout:g} s timeout and was cancelled.",
                kind="timeout",
            )
        if isinstance(exc, pgerrors.UndefinedTable | pgerrors.InvalidSchemaName):
            return EngineError(first_line(exc.pgerror or exc), kind="database")
        if isinstance(exc, psycopg2.OperationalError) and self._db is not None and self._db.closed:
            return unreachable(self.params)
        message = first_line(getattr(exc, "pgerror", None) or exc).removeprefix("ERROR:").strip()
        return EngineError(f"PostgreSQL said: {message}", kind="config")

    def check(self) -> ServerInfo:
        conn = self._conn()
        try:
            with conn.cursor() as cur:
                cur.execute(TAG + "SHOW server_version")
                version = cur.fetchone()[0]
                started = time.perf_counter()
                cur.execute(TAG + "SELECT 1")
                cur.fetchone()
                latency = (time.perf_counter() - started) * 1000
            conn.rollback()
        except psycopg2.Error as exc:
            raise self._translate(exc) from None
        return ServerInfo(version=f"PostgreSQL {version}", latency_ms=latency)

    # ---- SqlAdapter hooks ----------------------------------------------------------------
    def _execute(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        conn = self._conn()
        with self._driver_errors(rollback=True), conn.cursor() as cur:
            cur.execute(TAG + sql, list(args))
            self._rows_affected = cur.rowcount
            return cur.fetchall() if cur.description else []

    def _read(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Outside a transaction, in autocommit: the statement is the only round trip (psycopg2 would
        send BEGIN first and reset() a ROLLBACK after). A session the server dropped while it sat in
        the pool is opened again once: a read is safe to repeat."""
        conn = self._conn()
        if conn.autocommit or conn.status != psycopg2.extensions.STATUS_READY:
            return self._execute(sql, args)  # inside this session's open transaction: read there
        try:
            return self._autocommit(conn, sql, args)
        except EngineError:
            if not conn.closed:
                raise
            self._db = None
            return self._autocommit(self._conn(), sql, args)

    def _autocommit(self, conn: Any, sql: str, args: Sequence[Any]) -> list[tuple[Any, ...]]:
        conn.autocommit = True
        try:
            return self._execute(sql, args)
        finally:
            if not conn.closed:
                conn.autocommit = False

    def _stream(self, sql: str, args: Sequence[Any]) -> Iterator[tuple[Any, ...]]:
        conn = self._conn()
        with self._driver_errors(rollback=True), conn.cursor(name=f"dbdeck_{uuid.uuid4().hex[:12]}") as cur:
            cur.itersize = 2000
            cur.execute(TAG + sql, list(args))
            yield from cur
