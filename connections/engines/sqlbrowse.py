"""Browsing shared by the SQL engines: pages, counts, one row, edits by key, export.

Each SQL engine subclasses `SqlBrowsing` in its `browsing.py` with the hooks below
(value cutting, literals, the key of an inserted row); catalog queries live in the
engine's `introspection.py`, the connection and its errors in `adapter.py`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from connections.engines import cursor as tokens
from connections.engines.base import EngineError
from connections.engines.browse import (
    DETAIL_CELL_CAP,
    Column,
    Cut,
    ForeignKey,
    Listing,
    Namespace,
    Page,
    PageRequest,
    Record,
    TableBrowsing,
    TableInfo,
)
from connections.engines.sqlbase import SqlAdapter
from connections.engines.sqlkeyset import Dialect, OrderColumn, compile_filters, count_sql, page_sql

REFERRER_COUNT_CAP = 1000
# Output columns get positional aliases and order columns are qualified by TABLE_ALIAS:
# ORDER BY binds an unqualified name to an output alias first, and a cut cell aliased
# under its column's name would turn an index-ordered page into a full sort.
CELL_ALIAS = "__dbdeck_c{}"
KEY_ALIAS = "__dbdeck_k{}"
LEN_ALIAS = "__dbdeck_len{}"
TABLE_ALIAS = "__dbdeck_t"


class SqlBrowsing(TableBrowsing):
    exports_sql = True
    adapter: SqlAdapter

    @property
    def dialect(self) -> Dialect:
        return self.adapter.dialect

    def _execute(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.adapter._execute(sql, args)

    def _read(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.adapter._read(sql, args)

    # ---- hooks each SQL engine's browsing may override ----------------------------------
    def _cell(self, column: Column, cap: int) -> tuple[str, str | None]:
        """(value expression cut to `cap`, full-length expression or None) for a page column."""
        return self.dialect.quote(column.name), None

    def _literal(self, value: Any) -> str:
        """A value as an SQL literal, for INSERT exports."""
        raise NotImplementedError

    def _insert_returning_key(self, source: str, columns: list[str], args: list[Any], info: TableInfo) -> dict:
        raise NotImplementedError

    # ---- names -------------------------------------------------------------------------------
    def _source(self, ns: str, obj: str) -> str:
        """The quoted, qualified name of a table."""
        return f"{self.dialect.quote(ns)}.{self.dialect.quote(obj)}"

    def _key_expr(self, info: TableInfo, name: str) -> str:
        """SQL for a key column: a quoted column, or the engine's row locator (ctid, rowid)."""
        return self.dialect.quote(name) if info.key_kind == "primary" else name

    def _aliased_source(self, ns: str, obj: str) -> str:
        return f"{self._source(ns, obj)} AS {self.dialect.quote(TABLE_ALIAS)}"

    def _qualified(self, expr: str) -> str:
        return f"{self.dialect.quote(TABLE_ALIAS)}.{expr}"

    # ---- the catalog, from the engine's introspection ------------------------------------
    def namespaces(self) -> list[Namespace]:
        return self.adapter.introspection.namespaces()

    def objects(self, ns: str) -> Listing:
        return self.adapter.introspection.objects(ns)

    def prime(self, info: TableInfo) -> None:
        self.adapter.introspection.prime(info)

    def describe(self, ns: str, obj: str) -> TableInfo:
        return self.adapter.introspection.describe(ns, obj)

    # ---- pages, records, edits, export ---------------------------------------------------------
    def _page_columns(self, info: TableInfo, request: PageRequest) -> list[Column]:
        names = {c.name for c in info.columns}
        unknown = [c for c in request.columns if c not in names]
        if unknown:
            raise EngineError(f"There is no column {unknown[0]!r} in {info.name!r}.", kind="config")
        shown = [c for c in info.columns if not request.columns or c.name in request.columns]
        return shown or info.columns

    def _order(self, info: TableInfo, request: PageRequest) -> list[OrderColumn]:
        by_name = {c.name: c for c in info.columns}
        order: list[OrderColumn] = []
        if request.sort:
            if request.sort not in by_name:
                raise EngineError(f"There is no column {request.sort!r} to sort by.", kind="config")
            if request.sort not in info.key:
                column = by_name[request.sort]
                order.append(OrderColumn(self._qualified(self.dialect.quote(column.name)), nullable=column.nullable))
        order.extend(OrderColumn(self._qualified(self._key_expr(info, k))) for k in info.key)
        return order

    def page(self, ns: str, obj: str, request: PageRequest) -> Page:
        info = self.describe(ns, obj)
        shown = self._page_columns(info, request)
        names = {c.name for c in info.columns}
        select: list[str] = []
        lengths: dict[int, int] = {}
        for i, column in enumerate(shown):
            value_sql, length_sql = self._cell(column, request.cell_cap)
            select.append(f"{value_sql} AS {CELL_ALIAS.format(i)}")
            if length_sql:
                lengths[i] = len(select)
                select.append(f"{length_sql} AS {LEN_ALIAS.format(i)}")
        if info.key_kind == "none":
            return self._offset_page(ns, obj, info, shown, select, lengths, request)
        order = self._order(info, request)
        first_order = len(select)
        select.extend(f"{col.sql} AS {KEY_ALIAS.format(i)}" for i, col in enumerate(order))
        position = tokens.decode(request.cursor, shape=tokens.POSITION, length=len(order)) if request.cursor else None
        forward = request.direction != "prev"
        statements = page_sql(
            self.dialect,
            select=", ".join(select),
            source=self._aliased_source(ns, obj),
            order=order,
            position=position,
            forward=forward,
            descending=request.descending,
            filters=request.filters,
            columns=names,
            limit=request.limit + 1,
        )
        rows: list[tuple[Any, ...]] = []
        for sql, args in statements:  # a second range runs only when the first runs out
            rows.extend(self._read(sql, args))
            if len(rows) > request.limit:
                break
        more = len(rows) > request.limit
        rows = rows[: request.limit]
        if not forward:
            rows.reverse()
        positions = [list(row[first_order:]) for row in rows]
        keys = [dict(zip(info.key, pos[len(pos) - len(info.key) :], strict=True)) for pos in positions]
        has_next = more if forward else bool(rows)
        has_prev = (request.cursor is not None and bool(rows)) if forward else more
        return Page(
            columns=[c.name for c in shown],
            rows=[self._cells(row, len(shown), lengths, request.cell_cap) for row in rows],
            keys=keys,
            next_cursor=tokens.encode(positions[-1]) if has_next and rows else None,
            prev_cursor=tokens.encode(positions[0]) if has_prev and rows else None,
        )

    def _cells(self, row: Sequence[Any], count: int, lengths: dict[int, int], cap: int) -> list[Any]:
        values: list[Any] = []
        index = 0
        for i in range(count):
            value = row[index]
            index += 1
            if i in lengths:
                full = row[index]
                index += 1
                if full is not None and value is not None and full > cap:
                    value = Cut(value, full)
            values.append(value)
        return values

    def _offset_page(
        self,
        ns: str,
        obj: str,
        info: TableInfo,
        shown: list[Column],
        select: list[str],
        lengths: dict[int, int],
        request: PageRequest,
    ) -> Page:
        offset = tokens.decode(request.cursor, shape=tokens.OFFSET) if request.cursor else 0
        where, args = compile_filters(self.dialect, request.filters, {c.name for c in info.columns})
        sql = f"SELECT {', '.join(select)} FROM {self._aliased_source(ns, obj)}"
        if where:
            sql += " WHERE " + " AND ".join(where)
        if request.sort:
            order = self._order(info, request)  # validates the column
            sql += f" ORDER BY {order[0].sql} {'DESC' if request.descending else 'ASC'}"
        sql += f" LIMIT {int(request.limit) + 1} OFFSET {offset}"
        rows = self._read(sql, args)
        more = len(rows) > request.limit
        rows = rows[: request.limit]
        return Page(
            columns=[c.name for c in shown],
            rows=[self._cells(row, len(shown), lengths, request.cell_cap) for row in rows],
            keys=[{} for _ in rows],
            next_cursor=tokens.encode(offset + request.limit) if more else None,
            prev_cursor=tokens.encode(max(0, offset - request.limit)) if offset else None,
            notice="This table has no primary key, so pages use OFFSET: deep pages get slower, rows "
            "cannot be opened or edited, and concurrent changes can shift rows between pages.",
        )

    def count_exact(self, ns: str, obj: str, request: PageRequest) -> int:
        info = self.describe(ns, obj)
        sql, args = count_sql(
            self.dialect, source=self._source(ns, obj), filters=request.filters, columns={c.name for c in info.columns}
        )
        return int(self._execute(sql, args)[0][0])

    def _key_where(self, info: TableInfo, key: dict[str, Any]) -> tuple[str, list[Any]]:
        if info.key_kind == "none" or set(key) != set(info.key):
            raise EngineError("This row cannot be addressed: the table has no key, or the link is stale.", "config")
        p = self.dialect.placeholder
        clause = " AND ".join(f"{self._key_expr(info, k)} = {p}" for k in info.key)
        return clause, [key[k] for k in info.key]

    def _fetch_one(self, ns: str, obj: str, info: TableInfo, key: dict[str, Any], cap: int) -> dict[str, Any] | None:
        where, args = self._key_where(info, key)
        select = []
        for column in info.columns:
            value_sql, length_sql = self._cell(column, cap)
            select.extend((value_sql, length_sql or "NULL"))
        rows = self._execute(f"SELECT {', '.join(select)} FROM {self._source(ns, obj)} WHERE {where} LIMIT 2", args)
        if len(rows) != 1:
            return None
        row = rows[0]
        values: dict[str, Any] = {}
        for i, column in enumerate(info.columns):
            value, full = row[2 * i], row[2 * i + 1]
            values[column.name] = Cut(value, full) if full is not None and value is not None and full > cap else value
        return values

    def record(self, ns: str, obj: str, key: dict[str, Any]) -> Record | None:
        info = self.describe(ns, obj)
        values = self._fetch_one(ns, obj, info, key, DETAIL_CELL_CAP)
        if values is None:
            return None
        links = {}
        for fk in info.foreign_keys:
            ref = [values.get(c) for c in fk.columns]
            if all(v is not None and not isinstance(v, Cut) for v in ref):
                links[fk.name] = dict(zip(fk.ref_columns, ref, strict=True))
        referrers = [(fk, self._referrer_count(fk, values)) for fk in info.referenced_by]
        return Record(key=key, values=values, links=links, referrers=referrers)

    def _referrer_count(self, fk: ForeignKey, values: dict[str, Any]) -> int | None:
        """Rows pointing here, counted only up to a cap so a hot parent row stays cheap."""
        ref = [values.get(c) for c in fk.ref_columns]
        if any(v is None or isinstance(v, Cut) for v in ref):
            return None
        p = self.dialect.placeholder
        where = " AND ".join(f"{self.dialect.quote(c)} = {p}" for c in fk.columns)
        sql = (
            f"SELECT COUNT(*) FROM (SELECT 1 AS one FROM {self._source(fk.namespace, fk.table)} WHERE {where}"
            f" LIMIT {REFERRER_COUNT_CAP}) capped"
        )
        try:
            return int(self._execute(sql, ref)[0][0])
        except EngineError:
            return None

    def _check_columns(self, info: TableInfo, values: dict[str, Any]) -> None:
        names = {c.name for c in info.columns}
        unknown = [c for c in values if c not in names]
        if unknown:
            raise EngineError(f"There is no column {unknown[0]!r} in {info.name!r}.", kind="config")

    def _plain(self, values: dict[str, Any]) -> dict[str, Any]:
        return {k: (v.value if isinstance(v, Cut) else v) for k, v in values.items()}

    def _existing(self, ns: str, obj: str, info: TableInfo, key: dict[str, Any]) -> dict[str, Any]:
        """The row about to change, whole; refused when it is gone."""
        before = self._fetch_one(ns, obj, info, key, DETAIL_CELL_CAP)
        if before is None:
            raise EngineError("That row no longer exists.", kind="database")
        return before

    def update(self, ns: str, obj: str, key: dict[str, Any], values: dict[str, Any]) -> tuple[dict, dict]:
        info = self.describe(ns, obj)
        if not info.editable:
            raise EngineError("Only rows of tables with a key can be edited.", kind="config")
        self._check_columns(info, values)
        if not values:
            raise EngineError("Nothing to change.", kind="config")
        with self.adapter.atomic():
            before = self._existing(ns, obj, info, key)
            where, key_args = self._key_where(info, key)
            p = self.dialect.placeholder
            assignments = ", ".join(f"{self.dialect.quote(c)} = {p}" for c in values)
            self._execute(
                f"UPDATE {self._source(ns, obj)} SET {assignments} WHERE {where}", [*values.values(), *key_args]
            )
            if self.adapter._rowcount() != 1:
                raise EngineError("The update did not match exactly one row; nothing was changed.", "database")
            new_key = {k: values.get(k, v) for k, v in key.items()} if info.key_kind == "primary" else key
            after = self._fetch_one(ns, obj, info, new_key, DETAIL_CELL_CAP) or {}
        return self._plain(before), self._plain(after)

    def delete(self, ns: str, obj: str, key: dict[str, Any]) -> dict[str, Any]:
        info = self.describe(ns, obj)
        if not info.editable:
            raise EngineError("Only rows of tables with a key can be deleted here.", kind="config")
        with self.adapter.atomic():
            before = self._existing(ns, obj, info, key)
            where, args = self._key_where(info, key)
            self._execute(f"DELETE FROM {self._source(ns, obj)} WHERE {where}", args)
            if self.adapter._rowcount() != 1:
                raise EngineError("The delete did not match exactly one row; nothing was deleted.", "database")
        return self._plain(before)

    def insert(self, ns: str, obj: str, values: dict[str, Any]) -> dict[str, Any]:
        info = self.describe(ns, obj)
        if info.kind != "table":
            raise EngineError("Rows can only be added to tables.", kind="config")
        self._check_columns(info, values)
        with self.adapter.atomic():
            key = self._insert_returning_key(self._source(ns, obj), list(values), list(values.values()), info)
        return key

    def export(self, ns: str, obj: str, request: PageRequest, max_rows: int) -> Iterator[list[Any]]:
        info = self.describe(ns, obj)
        shown = self._page_columns(info, request)
        names = {c.name for c in info.columns}
        select = ", ".join(self.dialect.quote(c.name) for c in shown)
        where, args = compile_filters(self.dialect, request.filters, names)
        sql = f"SELECT {select} FROM {self._aliased_source(ns, obj)}"
        if where:
            sql += " WHERE " + " AND ".join(where)
        if info.key_kind != "none":
            order = self._order(info, request)
            direction = "DESC" if request.descending else "ASC"
            sql += " ORDER BY " + ", ".join(f"{c.sql} {direction}" for c in order)
        sql += f" LIMIT {int(max_rows)}"
        for row in self.adapter._stream(sql, args):
            yield list(row)

    def insert_statement(self, ns: str, obj: str, columns: list[str], row: list[Any]) -> str:
        cols = ", ".join(self.dialect.quote(c) for c in columns)
        vals = ", ".join(self._literal(v) for v in row)
        return f"INSERT INTO {self._source(ns, obj)} ({cols}) VALUES ({vals})"
