"""PostgreSQL's catalog: schemas, relations with estimates and sizes, columns, keys, foreign keys, indexes."""

from __future__ import annotations

from connections.engines.base import EngineError, refuse_nul
from connections.engines.browse import Column, ForeignKey, Index, Listing, Namespace, ObjectInfo, TableInfo
from connections.engines.partitions import MAX_PARTITIONS, Partitioning
from connections.engines.results import Partition, PartitionInfo
from connections.engines.sqlbase import SqlIntrospection, row_key

KINDS = {"r": "table", "p": "table", "v": "view", "m": "materialized view", "f": "foreign table"}
MAX_OBJECTS = 5000


class PostgreSQLIntrospection(SqlIntrospection):
    def namespaces(self) -> list[Namespace]:
        rows = self._execute(
            "SELECT n.nspname, count(c.oid) FROM pg_namespace n LEFT JOIN pg_class c ON c.relnamespace = n.oid"
            " AND c.relkind IN ('r','p','v','m','f') WHERE n.nspname NOT LIKE 'pg\\_%%'"
            " AND n.nspname <> 'information_schema' GROUP BY n.nspname ORDER BY n.nspname = 'public' DESC, 1"
        )
        return [Namespace(name=name, detail=f"{count} relations") for name, count in rows]

    def objects(self, ns: str) -> Listing:
        refuse_nul(ns)
        # A partitioned table's own size and estimate are empty: its leaves' sums stand in for them.
        rows = self._execute(
            "SELECT c.relname, c.relkind,"
            " CASE WHEN c.relkind = 'p' THEN (SELECT sum(greatest(l.reltuples, 0))::bigint"
            "   FROM pg_partition_tree(c.oid) t JOIN pg_class l ON l.oid = t.relid WHERE t.isleaf)"
            " ELSE c.reltuples::bigint END,"
            " CASE WHEN c.relkind = 'p' THEN (SELECT sum(pg_total_relation_size(t.relid))::bigint"
            "   FROM pg_partition_tree(c.oid) t WHERE t.isleaf)"
            " WHEN c.relkind IN ('r','m') THEN pg_total_relation_size(c.oid) END,"
            " CASE WHEN c.relispartition THEN (SELECT p.relname FROM pg_inherits i"
            "   JOIN pg_class p ON p.oid = i.inhparent WHERE i.inhrelid = c.oid LIMIT 1) END,"
            " CASE WHEN c.relkind = 'p' THEN (SELECT count(*) FROM pg_inherits i WHERE i.inhparent = c.oid) END"
            " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = %s AND c.relkind IN ('r','p','v','m','f') ORDER BY c.relname LIMIT %s",
            [ns, MAX_OBJECTS + 1],
        )
        items = [
            ObjectInfo(
                name=name,
                kind=KINDS[kind],
                estimated_rows=None if tuples is None or tuples < 0 or kind == "v" else tuples,
                size_bytes=size,
                detail=(f"partitioned: {children} partitions" if kind == "p" else "")
                + (f"partition of {parent}" if parent else ""),
                extra={"partition_of": parent} if parent else {},
            )
            for name, kind, tuples, size, parent, children in rows[:MAX_OBJECTS]
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
        key, key_kind = row_key(pk, "ctid" if relkind in ("r", "p", "m") else None)
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


class PostgreSQLPartitioning(Partitioning):
    """Declarative partitions from pg_inherits and pg_class.relpartbound, with estimates and sizes."""

    def partitions(self, ns: str, obj: str) -> PartitionInfo:
        refuse_nul(ns, obj)
        run = self.adapter._execute
        found = run(
            "SELECT c.oid, c.relkind, CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END"
            " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = %s",
            [ns, obj],
        )
        if not found:
            raise EngineError(f"There is no table {obj!r} in schema {ns!r}.", kind="database")
        oid, _kind, key = found[0]
        parent = run(
            "SELECT pn.nspname, p.relname FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent"
            " JOIN pg_namespace pn ON pn.oid = p.relnamespace JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhrelid = %s AND c.relispartition",
            [oid],
        )
        # Every level under this table, each row naming the partition it belongs to.
        rows = run(
            "WITH RECURSIVE tree(oid, parent, level) AS ("
            " SELECT i.inhrelid, i.inhparent, 1 FROM pg_inherits i WHERE i.inhparent = %s"
            " UNION ALL SELECT i.inhrelid, i.inhparent, t.level + 1"
            " FROM pg_inherits i JOIN tree t ON i.inhparent = t.oid WHERE t.level < 8)"
            " SELECT n.nspname, c.relname, pg_get_expr(c.relpartbound, c.oid), c.reltuples::bigint,"
            " pg_total_relation_size(c.oid), c.relkind = 'p', CASE WHEN t.parent <> %s THEN p.relname ELSE '' END"
            " FROM tree t JOIN pg_class c ON c.oid = t.oid JOIN pg_namespace n ON n.oid = c.relnamespace"
            " JOIN pg_class p ON p.oid = t.parent WHERE c.relispartition ORDER BY t.level, c.relname LIMIT %s",
            [oid, oid, MAX_PARTITIONS + 1],
        )
        self.adapter._rollback()
        partitions = [
            Partition(name, pns, bounds or "", None if tuples < 0 else tuples, size, sub, under)
            for pns, name, bounds, tuples, size, sub, under in rows[:MAX_PARTITIONS]
        ]
        notice = f"Showing the first {MAX_PARTITIONS} partitions." if len(rows) > MAX_PARTITIONS else ""
        if not key and not partitions:
            notice = "This table is not partitioned."
        return PartitionInfo(
            key=key or "", parent=tuple(parent[0]) if parent else None, partitions=partitions, notice=notice
        )
