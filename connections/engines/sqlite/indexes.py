"""SQLite's index tools: sqlite_master and index_list, duplicate and prefix findings, heuristic advice, builds.

SQLite keeps no index use counts, so there are no unused-index findings; sizes come from
the dbstat table where the library has it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from connections.engines.base import EngineError, refuse_nul
from connections.engines.capabilities import IndexTools
from connections.engines.indexfindings import duplicates_and_prefixes, index_name
from connections.engines.plantree import esr, walk
from connections.engines.results import IndexFinding, IndexSuggestion, IndexUsage, Progress

MAX_TABLES = 500
NO_COUNTS = "SQLite keeps no index use counts: unused indexes cannot be found from statistics."
ORDER_BY = re.compile(r"\bORDER\s+BY\s+(.+?)(?:\bLIMIT\b|\bOFFSET\b|$)", re.IGNORECASE | re.DOTALL)


class SQLiteIndexTools(IndexTools):
    online = False
    hypothetical = False
    notice = NO_COUNTS

    def _q(self, name: str) -> str:
        return self.adapter.dialect.quote(name)

    def _size(self, ns: str, name: str) -> int | None:
        try:
            rows = self.adapter._execute(f"SELECT sum(pgsize) FROM dbstat({self._q(ns)}) WHERE name = ?", [name])
        except EngineError:
            return None  # no dbstat in this build of SQLite
        return int(rows[0][0]) if rows and rows[0][0] is not None else None

    def list_indexes(self, ns: str, obj: str) -> list[IndexUsage]:
        refuse_nul(ns, obj)
        s = self._q(ns)
        found = []
        for _seq, name, unique, origin, _partial in self.adapter._execute(f"PRAGMA {s}.index_list({self._q(obj)})"):
            columns = tuple(
                str(col) if col is not None else "<expression>"
                for _n, _cid, col in self.adapter._execute(f"PRAGMA {s}.index_info({self._q(name)})")
            )
            sql = self.adapter._execute(f"SELECT sql FROM {s}.sqlite_master WHERE type = 'index' AND name = ?", [name])
            definition = (sql[0][0] if sql and sql[0][0] else "") or f"({origin}) automatic index for a constraint"
            found.append(
                IndexUsage(
                    namespace=ns,
                    table=obj,
                    name=str(name),
                    columns=columns,
                    definition=definition,
                    unique=bool(unique),
                    primary=origin == "pk",
                    backs_constraint=origin in ("pk", "u"),
                    size_bytes=self._size(ns, name),
                )
            )
        self.adapter._rollback()
        return found

    def _drop(self, index: IndexUsage) -> str:
        return f"DROP INDEX {self._q(index.namespace)}.{self._q(index.name)};"

    def findings(self, ns: str) -> list[IndexFinding]:
        refuse_nul(ns)
        tables = self.adapter._execute(
            f"SELECT name FROM {self._q(ns)}.sqlite_master WHERE type = 'table' ORDER BY name LIMIT {MAX_TABLES}"
        )
        indexes = [i for (t,) in tables for i in self.list_indexes(ns, t)]
        return duplicates_and_prefixes(indexes, self._drop)

    def suggest(self, statement: str) -> list[IndexSuggestion]:
        """Heuristic: tables the plan scans in full, indexed on the columns the statement compares."""
        from connections.engines.sqlite.explain import SQLiteExplain, compared

        plan = SQLiteExplain(self.adapter).explain(statement)
        order = ORDER_BY.search(statement)
        sort = [re.split(r"\s+", part.strip())[0].strip('"') for part in order[1].split(",")] if order else []
        found = []
        for node, _ in walk(plan.root):
            if node.operation != "Full scan" or not node.relation:
                continue
            names = [str(r[1]) for r in self.adapter._execute(f"PRAGMA table_info({self._q(node.relation)})")]
            equal, ranged = compared(statement, names)
            mine = equal, [c for c in sort if c in names and c not in equal], ranged
            for columns in esr(*mine):
                cols = ", ".join(self._q(c) for c in columns)
                create = (
                    f"CREATE INDEX {self._q(index_name(node.relation, columns))} ON {self._q(node.relation)} ({cols});"
                )
                why = (
                    f"Heuristic (not measured): SQLite scans all of {node.relation}"
                    f" and the statement compares or sorts by {', '.join(columns)}."
                )
                found.append(IndexSuggestion("main", node.relation, columns, create, "heuristic", reason=why))
        self.adapter._rollback()
        return found

    def create(self, ns: str, obj: str, columns: tuple[str, ...], *, unique: bool = False) -> Iterator[Progress]:
        refuse_nul(ns, obj, *columns)
        if not columns:
            raise EngineError("Choose at least one column for the index.", kind="config")
        name = index_name(obj, columns, limit=200)
        cols = ", ".join(self._q(c) for c in columns)
        kind = "UNIQUE INDEX" if unique else "INDEX"
        yield Progress(f"building {name}")
        with self.adapter.atomic():
            self.adapter._execute(f"CREATE {kind} {self._q(ns)}.{self._q(name)} ON {self._q(obj)} ({cols})")
        yield Progress("done", 1, 1)

    def drop(self, ns: str, obj: str, name: str) -> Iterator[Progress]:
        refuse_nul(ns, obj, name)
        yield Progress(f"dropping {name}")
        with self.adapter.atomic():
            self.adapter._execute(f"DROP INDEX {self._q(ns)}.{self._q(name)}")
        yield Progress("done", 1, 1)
