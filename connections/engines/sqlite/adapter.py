"""SQLite through the standard library: files opened by URI, read-only for viewers."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.request import pathname2url

from connections.engines.base import (
    VALUE_ERRORS,
    Adapter,
    EngineError,
    ServerInfo,
    first_line,
    read_only_refusal,
    refuse_nul,
    value_refused,
)
from connections.engines.browse import Column, ForeignKey, Index, Listing, Namespace, ObjectInfo, TableInfo
from connections.engines.sqlbrowse import TAG, SqlBrowsing
from connections.engines.sqlkeyset import Dialect

MAX_OBJECTS = 5000
PROGRESS_OPS = 20_000


def quote_ident(name: str) -> str:
    refuse_nul(name)
    return '"' + name.replace('"', '""') + '"'


def _string_literal(value: str) -> str:
    if "\x00" in value:  # a C-string literal would end at the NUL; spell the bytes instead
        return f"CAST(X'{value.encode().hex()}' AS TEXT)"
    return "'" + value.replace("'", "''") + "'"


class SQLiteAdapter(SqlBrowsing, Adapter):
    engine = "sqlite"
    display_name = "SQLite"
    default_port = None
    supports_sql = True
    supports_explain = True
    supports_tls = False
    uses_host = False
    uses_username = False
    dialect = Dialect(
        quote=quote_ident,
        placeholder="?",
        row_values=sqlite3.sqlite_version_info >= (3, 15),
    )

    driver_error = sqlite3.Error

    def __init__(self, params: Any) -> None:
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

    # ---- SqlBrowsing hooks ----------------------------------------------------------------
    def _execute(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        db = self._conn()
        self._deadline = time.monotonic() + self.params.statement_timeout
        try:
            cur = db.execute(TAG + sql, list(args))
            rows = cur.fetchall()
            self._rows_affected = cur.rowcount
            return rows
        except sqlite3.Error as exc:
            error = self._translate(exc)
            self._rollback()
            raise error from None
        except VALUE_ERRORS as exc:
            self._rollback()
            raise value_refused("SQLite", exc) from None
        finally:
            self._deadline = 0.0

    def _stream(self, sql: str, args: Sequence[Any]) -> Iterator[tuple[Any, ...]]:
        # Exports are long by nature: no per-statement deadline, rows arrive as the cursor steps.
        try:
            cur = self._conn().execute(TAG + sql, list(args))
            while rows := cur.fetchmany(2000):
                yield from rows
        except sqlite3.Error as exc:
            raise self._translate(exc) from None
        except VALUE_ERRORS as exc:
            raise value_refused("SQLite", exc) from None

    def _source(self, ns: str, obj: str) -> str:
        return f"{quote_ident(ns)}.{quote_ident(obj)}"

    def _cell(self, column: Column, cap: int) -> tuple[str, str | None]:
        col, n = quote_ident(column.name), int(cap)
        return (
            f"CASE WHEN typeof({col}) IN ('text', 'blob') AND length(CAST({col} AS BLOB)) > {n}"
            f" THEN substr({col}, 1, {n}) ELSE {col} END",
            f"CASE WHEN typeof({col}) IN ('text', 'blob') THEN length(CAST({col} AS BLOB)) END",
        )

    def _literal(self, value: Any) -> str:
        if value is None:
            return "NULL"
        if isinstance(value, bool):
            return str(int(value))
        if isinstance(value, int | float):
            return repr(value)
        if isinstance(value, bytes):
            return f"X'{value.hex()}'"
        return _string_literal(str(value))

    def _insert_returning_key(self, source: str, columns: list[str], args: list[Any], info: TableInfo) -> dict:
        if columns:
            cols = ", ".join(quote_ident(c) for c in columns)
            sql = f"INSERT INTO {source} ({cols}) VALUES ({', '.join(['?'] * len(args))})"
        else:
            sql = f"INSERT INTO {source} DEFAULT VALUES"
        db = self._conn()
        self._execute(sql, args)
        values = dict(zip(columns, args, strict=True))
        if all(k in values for k in info.key):
            return {k: values[k] for k in info.key}
        rowid = db.execute("SELECT last_insert_rowid()").fetchone()[0]
        if info.key_kind == "rowid" or len(info.key) == 1:
            return {info.key[0]: rowid}
        return {}

    # ---- catalog ------------------------------------------------------------------------------------
    def namespaces(self) -> list[Namespace]:
        rows = self._execute("SELECT name, file FROM pragma_database_list ORDER BY seq")
        return [Namespace(name=name, detail=file or "") for name, file in rows if name != "temp"]

    def _estimates(self, ns: str) -> dict[str, int]:
        try:
            rows = self._execute(f"SELECT tbl, stat FROM {quote_ident(ns)}.sqlite_stat1")
        except EngineError:
            return {}  # never ANALYZEd: no estimates, and we do not count
        estimates: dict[str, int] = {}
        for table, stat in rows:
            try:
                estimates[table] = max(estimates.get(table, 0), int(str(stat).split()[0]))
            except (ValueError, IndexError):
                continue
        return estimates

    def objects(self, ns: str) -> Listing:
        rows = self._execute(
            f"SELECT name, type FROM {quote_ident(ns)}.sqlite_schema WHERE type IN ('table', 'view')"
            " AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name LIMIT ?",
            [MAX_OBJECTS + 1],
        )
        estimates = self._estimates(ns)
        items = [
            ObjectInfo(name=name, kind=kind, estimated_rows=estimates.get(name) if kind == "table" else None)
            for name, kind in rows[:MAX_OBJECTS]
        ]
        return Listing(
            items=items, notice=f"Showing the first {MAX_OBJECTS} tables." if len(rows) > MAX_OBJECTS else ""
        )

    def _describe(self, ns: str, obj: str) -> TableInfo:
        schema = quote_ident(ns)
        found = self._execute(
            f"SELECT type, sql FROM {schema}.sqlite_schema WHERE name = ? AND type IN ('table', 'view')", [obj]
        )
        if not found:
            raise EngineError(f"There is no table or view {obj!r}.", kind="database")
        kind, create_sql = found[0]
        info = self._execute(
            'SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?, ?) ORDER BY cid', [obj, ns]
        )
        pk = [name for name, *_, order in sorted((r for r in info if r[4]), key=lambda r: r[4])]
        columns = [
            Column(name=n, type=t or "", nullable=not notnull and n not in pk, primary_key=n in pk, default=d)
            for n, t, notnull, d, _ in info
        ]
        without_rowid = "without rowid" in (create_sql or "").lower()
        if pk:
            key, key_kind = tuple(pk), "primary"
        elif kind == "table" and not without_rowid:
            key, key_kind = ("rowid",), "rowid"
        else:
            key, key_kind = (), "none"
        return TableInfo(
            namespace=ns,
            name=obj,
            kind=kind,
            columns=columns,
            key=key,
            key_kind=key_kind,
            foreign_keys=self._foreign_keys(ns, obj),
            referenced_by=self._referenced_by(ns, obj),
            indexes=self._indexes(ns, obj),
            estimated_rows=self._estimates(ns).get(obj) if kind == "table" else None,
        )

    def _primary_key(self, ns: str, table: str) -> tuple[str, ...]:
        rows = self._execute("SELECT name, pk FROM pragma_table_info(?, ?) WHERE pk > 0 ORDER BY pk", [table, ns])
        return tuple(r[0] for r in rows) or ("rowid",)

    def _group_fks(self, ns: str, rows: list[tuple[Any, ...]]) -> list[ForeignKey]:
        grouped: dict[tuple[str, int], list[tuple[Any, ...]]] = {}
        for row in rows:
            grouped.setdefault((row[0], row[1]), []).append(row)
        fks = []
        for (table, fk_id), parts in grouped.items():
            parts.sort(key=lambda r: r[2])
            target = parts[0][3]
            ref_cols = tuple(r[5] for r in parts)
            if any(c is None for c in ref_cols):  # REFERENCES parent with no column list: the parent's key
                ref_cols = self._primary_key(ns, target)
            fks.append(
                ForeignKey(
                    name=f"{table}.fk{fk_id}",
                    namespace=ns,
                    table=table,
                    columns=tuple(r[4] for r in parts),
                    ref_namespace=ns,
                    ref_object=target,
                    ref_columns=ref_cols,
                )
            )
        return fks

    def _foreign_keys(self, ns: str, obj: str) -> list[ForeignKey]:
        rows = self._execute(
            'SELECT ?, id, seq, "table", "from", "to" FROM pragma_foreign_key_list(?, ?)', [obj, obj, ns]
        )
        return self._group_fks(ns, rows)

    def _referenced_by(self, ns: str, obj: str) -> list[ForeignKey]:
        rows = self._execute(
            f'SELECT m.name, f.id, f.seq, f."table", f."from", f."to" FROM {quote_ident(ns)}.sqlite_schema m'
            f" JOIN pragma_foreign_key_list(m.name, ?) f WHERE m.type = 'table' AND f.\"table\" = ? LIMIT 1000",
            [ns, obj],
        )
        return self._group_fks(ns, rows)

    def _indexes(self, ns: str, obj: str) -> list[Index]:
        rows = self._execute(
            'SELECT l.name, l."unique", l.origin, i.name FROM pragma_index_list(?, ?) l'
            " JOIN pragma_index_info(l.name, ?) i ORDER BY l.name, i.seqno",
            [obj, ns, ns],
        )
        grouped: dict[str, list[tuple[Any, ...]]] = {}
        for row in rows:
            grouped.setdefault(row[0], []).append(row)
        return [
            Index(name=n, columns=tuple(r[3] for r in parts), unique=bool(parts[0][1]), primary=parts[0][2] == "pk")
            for n, parts in grouped.items()
        ]
