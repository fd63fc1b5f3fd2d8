"""SQLite's catalog: attached databases, tables and views, estimates from sqlite_stat1, keys and indexes."""

from __future__ import annotations

from typing import Any

from connections.engines.base import EngineError
from connections.engines.browse import Column, ForeignKey, Index, Listing, Namespace, ObjectInfo, TableInfo
from connections.engines.sqlbase import SqlIntrospection, row_key
from connections.engines.sqlite.sizes import table_sizes, total_size_notice

MAX_OBJECTS = 5000


class SQLiteIntrospection(SqlIntrospection):
    def namespaces(self) -> list[Namespace]:
        rows = self._execute("SELECT name, file FROM pragma_database_list ORDER BY seq")
        return [Namespace(name=name, detail=file or "") for name, file in rows if name != "temp"]

    def _estimates(self, ns: str) -> dict[str, int]:
        try:
            rows = self._execute(f"SELECT tbl, stat FROM {self.quote(ns)}.sqlite_stat1")
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
            f"SELECT name, type FROM {self.quote(ns)}.sqlite_schema WHERE type IN ('table', 'view')"
            " AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name LIMIT ?",
            [MAX_OBJECTS + 1],
        )
        estimates = self._estimates(ns)
        sizes = table_sizes(self, ns)
        items = [
            ObjectInfo(
                name=name,
                kind=kind,
                estimated_rows=estimates.get(name) if kind == "table" else None,
                size_bytes=sizes.get(name) if sizes and kind == "table" else None,
            )
            for name, kind in rows[:MAX_OBJECTS]
        ]
        notices = [f"Showing the first {MAX_OBJECTS} tables."] if len(rows) > MAX_OBJECTS else []
        if sizes is None:
            notices.append(total_size_notice(self, ns))
        return Listing(items=items, notice=" ".join(notices))

    def _describe(self, ns: str, obj: str) -> TableInfo:
        schema = self.quote(ns)
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
        key, key_kind = row_key(pk, "rowid" if kind == "table" and not without_rowid else None)
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
            f'SELECT m.name, f.id, f.seq, f."table", f."from", f."to" FROM {self.quote(ns)}.sqlite_schema m'
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
