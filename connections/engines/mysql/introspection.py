"""MySQL's and MariaDB's catalog from information_schema: databases, tables, columns, keys, foreign keys, indexes."""

from __future__ import annotations

from typing import Any

from connections.engines.base import EngineError, refuse_nul
from connections.engines.browse import Column, ForeignKey, Index, Listing, Namespace, ObjectInfo, TableInfo
from connections.engines.partitions import MAX_PARTITIONS, Partitioning
from connections.engines.results import Partition, PartitionInfo
from connections.engines.sqlbase import SqlIntrospection, row_key

SYSTEM_SCHEMAS = ("information_schema", "performance_schema", "mysql", "sys")
MAX_OBJECTS = 5000


class MySQLIntrospection(SqlIntrospection):
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
        key, key_kind = row_key([] if is_view else pk, None)  # no row locator: OFFSET pages, no edits
        return TableInfo(
            namespace=ns,
            name=obj,
            kind="view" if is_view else "table",
            columns=columns,
            key=key,
            key_kind=key_kind,
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


class MySQLPartitioning(Partitioning):
    """Partitions and sub-partitions from information_schema.PARTITIONS, with row estimates and sizes."""

    def partitions(self, ns: str, obj: str) -> PartitionInfo:
        refuse_nul(ns, obj)
        rows = self.adapter._execute(
            "SELECT PARTITION_NAME, SUBPARTITION_NAME, PARTITION_METHOD, PARTITION_EXPRESSION, PARTITION_DESCRIPTION,"
            " SUBPARTITION_METHOD, SUBPARTITION_EXPRESSION, TABLE_ROWS, DATA_LENGTH + INDEX_LENGTH"
            " FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s"
            " ORDER BY PARTITION_ORDINAL_POSITION, SUBPARTITION_ORDINAL_POSITION LIMIT %s",
            [ns, obj, MAX_PARTITIONS + 1],
        )
        self.adapter._rollback()
        if not rows:
            raise EngineError(f"There is no table {obj!r} in database {ns!r}.", kind="database")
        if rows[0][0] is None:
            return PartitionInfo(notice="This table is not partitioned.")
        _, _, method, expression, _, sub_method, sub_expression, _, _ = rows[0]
        key = f"{method} ({expression})" + (
            f", subpartitioned by {sub_method} ({sub_expression})" if sub_method else ""
        )
        partitions = []
        for name, sub, method, _expr, description, _sm, _se, table_rows, size in rows[:MAX_PARTITIONS]:
            bounds = ""
            if description is not None:
                bounds = f"VALUES LESS THAN ({description})" if "RANGE" in method else f"VALUES IN ({description})"
            partitions.append(
                Partition(
                    name=sub or name,
                    namespace=ns,
                    bounds=bounds,
                    estimated_rows=None if table_rows is None else int(table_rows),
                    size_bytes=None if size is None else int(size),
                    parent=name if sub else "",
                )
            )
        notice = f"Showing the first {MAX_PARTITIONS} partitions." if len(rows) > MAX_PARTITIONS else ""
        return PartitionInfo(key=key, partitions=partitions, notice=notice)
