"""PostgreSQL through psycopg2: check, catalog-based browsing, edits by key."""

from __future__ import annotations

import json
import math
import time
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import psycopg2
import psycopg2.extensions
from psycopg2 import errors as pgerrors

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

SSLMODES = {"disable": "disable", "prefer": "prefer", "require": "require", "verify-full": "verify-full"}
KINDS = {"r": "table", "p": "table", "v": "view", "m": "materialized view", "f": "foreign table"}
TEXTUAL = ("text", "character", "json", "xml", "citext", "tsvector")
MAX_OBJECTS = 5000


def quote_ident(name: str) -> str:
    """Double-quoted identifier; `%` doubled because every statement is run with parameters."""
    refuse_nul(name)
    return '"' + name.replace('"', '""').replace("%", "%%") + '"'


class PostgreSQLAdapter(SqlBrowsing, Adapter):
    engine = "postgresql"
    display_name = "PostgreSQL"
    default_port = 5432
    supports_schemas = True
    supports_sql = True
    supports_explain = True
    supports_explain_analyze = True
    dialect = Dialect(quote=quote_ident, placeholder="%s", as_text="{}::text", like="ILIKE")

    driver_error = psycopg2.Error

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

    # ---- SqlBrowsing hooks ----------------------------------------------------------------
    def _execute(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        conn = self._conn()
        try:
            with conn.cursor() as cur:
                cur.execute(TAG + sql, list(args))
                self._rows_affected = cur.rowcount
                return [tuple(self._value(v) for v in row) for row in cur.fetchall()] if cur.description else []
        except psycopg2.Error as exc:
            error = self._translate(exc)
            self._rollback()
            raise error from None
        except VALUE_ERRORS as exc:
            self._rollback()
            raise value_refused("PostgreSQL", exc) from None

    @staticmethod
    def _value(value: Any) -> Any:
        return bytes(value) if isinstance(value, memoryview) else value

    def _stream(self, sql: str, args: Sequence[Any]) -> Iterator[tuple[Any, ...]]:
        conn = self._conn()
        try:
            with conn.cursor(name=f"dbdeck_{uuid.uuid4().hex[:12]}") as cur:
                cur.itersize = 2000
                cur.execute(TAG + sql, list(args))
                for row in cur:
                    yield tuple(self._value(v) for v in row)
        except psycopg2.Error as exc:
            error = self._translate(exc)
            self._rollback()
            raise error from None
        except VALUE_ERRORS as exc:
            self._rollback()
            raise value_refused("PostgreSQL", exc) from None

    def _source(self, ns: str, obj: str) -> str:
        return f"{quote_ident(ns)}.{quote_ident(obj)}"

    def _cell(self, column: Column, cap: int) -> tuple[str, str | None]:
        col = quote_ident(column.name)
        if column.name == "ctid" and column.type == "tid":
            return col, None
        if column.type == "bytea":
            return f"substring({col} from 1 for {int(cap)})", f"octet_length({col})"
        if column.type.startswith(TEXTUAL) or column.type.endswith("[]"):
            return f"left({col}::text, {int(cap)})", f"octet_length({col}::text)"
        return col, None

    def _literal(self, value: Any) -> str:
        if isinstance(value, dict | list):
            value = json.dumps(value)
        with self._conn().cursor() as cur:
            return str(cur.mogrify("%s", [psycopg2.Binary(value) if isinstance(value, bytes) else value]).decode())

    def _insert_returning_key(self, source: str, columns: list[str], args: list[Any], info: TableInfo) -> dict:
        keys = ", ".join(self._key_expr(info, k) for k in info.key)
        if columns:
            cols = ", ".join(quote_ident(c) for c in columns)
            sql = f"INSERT INTO {source} ({cols}) VALUES ({', '.join(['%s'] * len(args))}) RETURNING {keys}"
        else:
            sql = f"INSERT INTO {source} DEFAULT VALUES RETURNING {keys}"
        row = self._execute(sql, args)[0]
        return dict(zip(info.key, row, strict=True))

    # ---- catalog ------------------------------------------------------------------------------------
    def namespaces(self) -> list[Namespace]:
        rows = self._execute(
            "SELECT n.nspname, count(c.oid) FROM pg_namespace n LEFT JOIN pg_class c ON c.relnamespace = n.oid"
            " AND c.relkind IN ('r','p','v','m','f') WHERE n.nspname NOT LIKE 'pg\\_%%'"
            " AND n.nspname <> 'information_schema' GROUP BY n.nspname ORDER BY n.nspname = 'public' DESC, 1"
        )
        return [Namespace(name=name, detail=f"{count} relations") for name, count in rows]

    def objects(self, ns: str) -> Listing:
        refuse_nul(ns)
        rows = self._execute(
            "SELECT c.relname, c.relkind, c.reltuples::bigint,"
            " CASE WHEN c.relkind IN ('r','p','m') THEN pg_total_relation_size(c.oid) END"
            " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = %s AND c.relkind IN ('r','p','v','m','f') ORDER BY c.relname LIMIT %s",
            [ns, MAX_OBJECTS + 1],
        )
        items = [
            ObjectInfo(
                name=name,
                kind=KINDS[kind],
                estimated_rows=None if tuples < 0 or kind == "v" else tuples,
                size_bytes=size,
            )
            for name, kind, tuples, size in rows[:MAX_OBJECTS]
        ]
        notice = f"Showing the first {MAX_OBJECTS} relations." if len(rows) > MAX_OBJECTS else ""
        return Listing(items=items, notice=notice)

    def _describe(self, ns: str, obj: str) -> TableInfo:
        refuse_nul(ns, obj)
        found = self._execute(
            "SELECT c.oid, c.relkind, c.reltuples::bigint,"
            " CASE WHEN c.relkind IN ('r','p','m') THEN pg_total_relation_size(c.oid) END"
            " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = %s",
            [ns, obj],
        )
        if not found:
            raise EngineError(f"There is no table or view {obj!r} in schema {ns!r}.", kind="database")
        oid, relkind, tuples, size = found[0]
        columns_rows = self._execute(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull, pg_get_expr(d.adbin, d.adrelid)"
            " FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
            " WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
            [oid],
        )
        pk = [
            r[0]
            for r in self._execute(
                "SELECT a.attname FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY k(attnum, ord)"
                " JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum"
                " WHERE i.indrelid = %s AND i.indisprimary ORDER BY k.ord",
                [oid],
            )
        ]
        columns = [
            Column(name=n, type=t, nullable=bool(nullable) and n not in pk, primary_key=n in pk, default=d)
            for n, t, nullable, d in columns_rows
        ]
        kind = KINDS[relkind]
        if pk:
            key, key_kind = tuple(pk), "primary"
        elif relkind in ("r", "p", "m"):
            key, key_kind = ("ctid",), "ctid"
        else:
            key, key_kind = (), "none"
        return TableInfo(
            namespace=ns,
            name=obj,
            kind=kind,
            columns=columns,
            key=key,
            key_kind=key_kind,
            foreign_keys=self._foreign_keys("c.conrelid = %s", oid),
            referenced_by=self._foreign_keys("c.confrelid = %s", oid),
            indexes=self._indexes(oid),
            estimated_rows=None if tuples < 0 else tuples,
            size_bytes=size,
        )

    def _foreign_keys(self, where: str, oid: int) -> list[ForeignKey]:
        rows = self._execute(
            "SELECT c.conname, sn.nspname, s.relname,"
            " ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(n, o)"
            "       JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.o),"
            " tn.nspname, t.relname,"
            " ARRAY(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(n, o)"
            "       JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.o)"
            " FROM pg_constraint c JOIN pg_class s ON s.oid = c.conrelid"
            " JOIN pg_namespace sn ON sn.oid = s.relnamespace"
            " JOIN pg_class t ON t.oid = c.confrelid JOIN pg_namespace tn ON tn.oid = t.relnamespace"
            f" WHERE c.contype = 'f' AND {where} ORDER BY c.conname LIMIT 200",
            [oid],
        )
        return [
            ForeignKey(
                name=n, namespace=sn, table=s, columns=tuple(sc), ref_namespace=tn, ref_object=t, ref_columns=tuple(tc)
            )
            for n, sn, s, sc, tn, t, tc in rows
        ]

    def _indexes(self, oid: int) -> list[Index]:
        rows = self._execute(
            "SELECT ic.relname, i.indisunique, i.indisprimary, pg_get_indexdef(i.indexrelid),"
            " ARRAY(SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY k(n, o)"
            "       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n ORDER BY k.o)"
            " FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid WHERE i.indrelid = %s ORDER BY 1",
            [oid],
        )
        return [Index(name=n, columns=tuple(cols), unique=u, primary=p, detail=d) for n, u, p, d, cols in rows]
