"""MySQL and MariaDB through PyMySQL (`local_infile` always off): check, browsing, edits by key."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from typing import Any

import pymysql
import pymysql.cursors

from connections.engines.base import (
    VALUE_ERRORS,
    Adapter,
    EngineError,
    ServerInfo,
    first_line,
    read_only_refusal,
    refuse_nul,
    unreachable,
    value_refused,
    wrong_credentials,
)
from connections.engines.browse import Column, ForeignKey, Index, Listing, Namespace, ObjectInfo, TableInfo
from connections.engines.sqlbrowse import TAG, SqlBrowsing
from connections.engines.sqlkeyset import Dialect

SYSTEM_SCHEMAS = ("information_schema", "performance_schema", "mysql", "sys")
CUTTABLE = (
    "char",
    "varchar",
    "text",
    "tinytext",
    "mediumtext",
    "longtext",
    "blob",
    "tinyblob",
    "mediumblob",
    "longblob",
    "json",
    "binary",
    "varbinary",
)
MAX_OBJECTS = 5000
AUTH_ERRORS = {1045, 1044, 1698}
UNREACHABLE_ERRORS = {2002, 2003, 2005, 2006, 2013}
READ_ONLY_ERRORS = {1792, 1290, 1036}
TIMEOUT_ERRORS = {3024, 1969, 1317}
TLS_ERRORS = {3159, 2026}


def quote_ident(name: str) -> str:
    """Backtick-quoted identifier; `%` doubled because every statement is run with parameters."""
    refuse_nul(name)
    return "`" + name.replace("`", "``").replace("%", "%%") + "`"


class MySQLAdapter(SqlBrowsing, Adapter):
    engine = "mysql"
    display_name = "MySQL / MariaDB"
    default_port = 3306
    supports_schemas = False
    supports_sql = True
    supports_explain = True
    supports_explain_analyze = True
    dialect = Dialect(
        quote=quote_ident,
        placeholder="%s",
        row_values=False,
        null_range_key_order=True,
        as_text="CAST({} AS CHAR)",
        like="LIKE",
        like_escape="",
    )

    driver_error = pymysql.MySQLError

    def __init__(self, params: Any) -> None:
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

    # ---- SqlBrowsing hooks ----------------------------------------------------------------
    def _execute(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        conn = self._conn()
        try:
            with conn.cursor() as cur:
                self._rows_affected = cur.execute(TAG + sql, list(args))
                return list(cur.fetchall()) if cur.description else []
        except pymysql.MySQLError as exc:
            error = self._translate(exc)
            self._rollback()
            raise error from None
        except VALUE_ERRORS as exc:
            self._rollback()
            raise value_refused("MySQL", exc) from None

    def _stream(self, sql: str, args: Sequence[Any]) -> Iterator[tuple[Any, ...]]:
        conn = self._conn()
        try:
            with conn.cursor(pymysql.cursors.SSCursor) as cur:
                cur.execute(TAG + sql, list(args))
                while rows := cur.fetchmany(2000):
                    yield from rows
        except pymysql.MySQLError as exc:
            raise self._translate(exc) from None
        except VALUE_ERRORS as exc:
            raise value_refused("MySQL", exc) from None

    def _source(self, ns: str, obj: str) -> str:
        return f"{quote_ident(ns)}.{quote_ident(obj)}"

    def _cell(self, column: Column, cap: int) -> tuple[str, str | None]:
        col = quote_ident(column.name)
        if column.type.split("(")[0].lower() in CUTTABLE:
            return f"SUBSTRING({col}, 1, {int(cap)})", f"LENGTH({col})"
        return col, None

    def _literal(self, value: Any) -> str:
        if isinstance(value, dict | list):
            value = json.dumps(value)
        return str(self._conn().escape(value))

    def _insert_returning_key(self, source: str, columns: list[str], args: list[Any], info: TableInfo) -> dict:
        cols = ", ".join(quote_ident(c) for c in columns)
        sql = f"INSERT INTO {source} ({cols}) VALUES ({', '.join(['%s'] * len(args))})"
        self._execute(sql, args)
        values = dict(zip(columns, args, strict=True))
        if all(k in values for k in info.key):
            return {k: values[k] for k in info.key}
        if len(info.key) == 1:
            return {info.key[0]: self._db.insert_id()}
        return {}

    # ---- catalog ------------------------------------------------------------------------------------
    def namespaces(self) -> list[Namespace]:
        rows = self._execute(
            "SELECT s.schema_name, COUNT(t.table_name) FROM information_schema.schemata s"
            " LEFT JOIN information_schema.tables t ON t.table_schema = s.schema_name"
            f" WHERE s.schema_name NOT IN ({', '.join(['%s'] * len(SYSTEM_SCHEMAS))})"
            " GROUP BY s.schema_name ORDER BY s.schema_name",
            list(SYSTEM_SCHEMAS),
        )
        return [Namespace(name=name, detail=f"{count} tables") for name, count in rows]

    def objects(self, ns: str) -> Listing:
        rows = self._execute(
            "SELECT table_name, table_type, table_rows, data_length + index_length FROM information_schema.tables"
            " WHERE table_schema = %s ORDER BY table_name LIMIT %s",
            [ns, MAX_OBJECTS + 1],
        )
        items = [
            ObjectInfo(
                name=name,
                kind="view" if "VIEW" in kind else "table",
                estimated_rows=None if "VIEW" in kind else rows_,
                size_bytes=size,
            )
            for name, kind, rows_, size in rows[:MAX_OBJECTS]
        ]
        return Listing(
            items=items, notice=f"Showing the first {MAX_OBJECTS} tables." if len(rows) > MAX_OBJECTS else ""
        )

    def _describe(self, ns: str, obj: str) -> TableInfo:
        found = self._execute(
            "SELECT table_type, table_rows, data_length + index_length FROM information_schema.tables"
            " WHERE table_schema = %s AND table_name = %s",
            [ns, obj],
        )
        if not found:
            raise EngineError(f"There is no table or view {obj!r} in database {ns!r}.", kind="database")
        table_type, table_rows, size = found[0]
        cols = self._execute(
            "SELECT column_name, column_type, is_nullable, column_default, column_key FROM information_schema.columns"
            " WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
            [ns, obj],
        )
        pk = [
            r[0]
            for r in self._execute(
                "SELECT column_name FROM information_schema.key_column_usage"
                " WHERE table_schema = %s AND table_name = %s AND constraint_name = 'PRIMARY'"
                " ORDER BY ordinal_position",
                [ns, obj],
            )
        ]
        columns = [
            Column(
                name=n,
                type=str(t),
                nullable=nullable == "YES",
                primary_key=n in pk,
                default=None if d is None else str(d),
            )
            for n, t, nullable, d, _ in cols
        ]
        is_view = "VIEW" in table_type
        return TableInfo(
            namespace=ns,
            name=obj,
            kind="view" if is_view else "table",
            columns=columns,
            key=tuple(pk) if pk and not is_view else (),
            key_kind="primary" if pk and not is_view else "none",
            foreign_keys=self._foreign_keys("k.table_schema = %s AND k.table_name = %s", ns, obj),
            referenced_by=self._foreign_keys(
                "k.referenced_table_schema = %s AND k.referenced_table_name = %s", ns, obj
            ),
            indexes=self._indexes(ns, obj),
            estimated_rows=None if is_view else table_rows,
            size_bytes=size,
        )

    def _foreign_keys(self, where: str, ns: str, obj: str) -> list[ForeignKey]:
        rows = self._execute(
            "SELECT k.constraint_name, k.table_schema, k.table_name, k.column_name, k.referenced_table_schema,"
            " k.referenced_table_name, k.referenced_column_name FROM information_schema.key_column_usage k"
            f" WHERE {where} AND k.referenced_table_name IS NOT NULL"
            " ORDER BY k.table_schema, k.table_name, k.constraint_name, k.ordinal_position LIMIT 1000",
            [ns, obj],
        )
        grouped: dict[tuple[str, str, str], list[tuple[Any, ...]]] = {}
        for row in rows:
            grouped.setdefault((row[0], row[1], row[2]), []).append(row)
        return [
            ForeignKey(
                name=name,
                namespace=sch,
                table=tbl,
                columns=tuple(r[3] for r in parts),
                ref_namespace=parts[0][4],
                ref_object=parts[0][5],
                ref_columns=tuple(r[6] for r in parts),
            )
            for (name, sch, tbl), parts in grouped.items()
        ]

    def _indexes(self, ns: str, obj: str) -> list[Index]:
        rows = self._execute(
            "SELECT index_name, non_unique, column_name, index_type FROM information_schema.statistics"
            " WHERE table_schema = %s AND table_name = %s ORDER BY index_name, seq_in_index",
            [ns, obj],
        )
        grouped: dict[str, list[tuple[Any, ...]]] = {}
        for row in rows:
            grouped.setdefault(row[0], []).append(row)
        return [
            Index(
                name=n,
                columns=tuple(r[2] for r in parts),
                unique=not parts[0][1],
                primary=n == "PRIMARY",
                detail=str(parts[0][3]),
            )
            for n, parts in grouped.items()
        ]
