"""MySQL / MariaDB index tools: information_schema.STATISTICS, use counts where the server keeps them,
duplicate and prefix findings, heuristic advice from the plan, and online ALTER TABLE builds.

Use counts: MariaDB's INDEX_STATISTICS when `userstat` is on (rows read through each index),
MySQL's performance_schema index I/O summary; otherwise `notice` says how to turn them on.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from typing import Any

import pymysql

from connections.engines.base import EngineError, refuse_nul
from connections.engines.capabilities import IndexTools
from connections.engines.indexfindings import duplicates_and_prefixes, index_name
from connections.engines.mysql.explain import lenient_json
from connections.engines.plantree import compared_columns, esr, one_statement
from connections.engines.results import IndexFinding, IndexSuggestion, IndexUsage, Progress

BUILD_TIMEOUT_S = 6 * 3600
POLL_S = 0.5
USERSTAT_OFF = (
    "MariaDB keeps index use counts only with user statistics on: SET GLOBAL userstat = 1 "
    "(counts start from then; unused-index findings need them)."
)


class MySQLIndexTools(IndexTools):
    online = True  # ALGORITHM=INPLACE, LOCK=NONE
    hypothetical = False
    notice = ""

    def _q(self, name: str) -> str:
        return self.adapter.dialect.quote(name)

    def _usage(self, ns: str, table: str | None) -> dict[tuple[str, str], int] | None:
        """Use counts per (table, index), or None when the server keeps none (and `notice` says why)."""
        adapter = self.adapter
        adapter._conn()
        where, args = (
            ("TABLE_SCHEMA = %s", [ns]) if table is None else ("TABLE_SCHEMA = %s AND TABLE_NAME = %s", [ns, table])
        )
        try:
            if adapter.is_mariadb:
                if not adapter._execute("SELECT @@userstat")[0][0]:
                    self.notice = USERSTAT_OFF
                    return None
                rows = adapter._execute(
                    f"SELECT TABLE_NAME, INDEX_NAME, ROWS_READ FROM information_schema.INDEX_STATISTICS WHERE {where}",
                    args,
                )
                self.notice = "Use counts are rows read through each index since user statistics were turned on."
            else:
                rows = adapter._execute(
                    "SELECT OBJECT_NAME, INDEX_NAME, COUNT_STAR"
                    " FROM performance_schema.table_io_waits_summary_by_index_usage"
                    f" WHERE {where.replace('TABLE_SCHEMA', 'OBJECT_SCHEMA').replace('TABLE_NAME', 'OBJECT_NAME')}"
                    " AND INDEX_NAME IS NOT NULL",
                    args,
                )
                self.notice = "Use counts are index I/O operations since the server started (performance_schema)."
        except EngineError as exc:
            self.notice = f"The server did not give index use counts: {exc.message}"
            return None
        return {(t, i): int(n or 0) for t, i, n in rows}

    def _indexes(self, ns: str, table: str | None) -> list[IndexUsage]:
        refuse_nul(ns, table or "")
        where, args = (
            ("TABLE_SCHEMA = %s", [ns]) if table is None else ("TABLE_SCHEMA = %s AND TABLE_NAME = %s", [ns, table])
        )
        rows = self.adapter._execute(
            "SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME, SUB_PART, INDEX_TYPE"
            f" FROM information_schema.STATISTICS WHERE {where}"
            " ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX LIMIT 20000",
            args,
        )
        foreign = {
            (t, name)
            for t, name in self.adapter._execute(
                "SELECT TABLE_NAME, CONSTRAINT_NAME FROM information_schema.TABLE_CONSTRAINTS"
                f" WHERE {where} AND CONSTRAINT_TYPE = 'FOREIGN KEY'",
                args,
            )
        }
        sizes = self._sizes(ns, table)
        usage = self._usage(ns, table)
        grouped: dict[tuple[str, str], dict[str, Any]] = {}
        for t, name, non_unique, column, sub_part, kind in rows:
            entry = grouped.setdefault((t, name), {"unique": not int(non_unique), "cols": [], "kind": kind})
            entry["cols"].append(f"{column}({sub_part})" if sub_part else str(column))
        found = []
        for (t, name), entry in grouped.items():
            cols = ", ".join(self._q(c) if "(" not in c else c for c in entry["cols"])
            unique = "UNIQUE " if entry["unique"] and name != "PRIMARY" else ""
            definition = "PRIMARY KEY" if name == "PRIMARY" else f"{unique}INDEX {self._q(name)}"
            found.append(
                IndexUsage(
                    namespace=ns,
                    table=t,
                    name=name,
                    columns=tuple(entry["cols"]),
                    definition=f"{definition} ({cols}) USING {entry['kind']}",
                    unique=entry["unique"],
                    primary=name == "PRIMARY",
                    backs_constraint=name == "PRIMARY" or entry["unique"] or (t, name) in foreign,
                    size_bytes=sizes.get((t, name)),
                    scans=None if usage is None else usage.get((t, name), 0),
                )
            )
        self.adapter._rollback()
        return found

    def _sizes(self, ns: str, table: str | None) -> dict[tuple[str, str], int]:
        where, args = (
            ("database_name = %s", [ns]) if table is None else ("database_name = %s AND table_name = %s", [ns, table])
        )
        try:
            rows = self.adapter._execute(
                "SELECT table_name, index_name, stat_value * @@innodb_page_size FROM mysql.innodb_index_stats"
                f" WHERE {where} AND stat_name = 'size'",
                args,
            )
        except EngineError:
            return {}  # no access to mysql.*: sizes unknown
        return {(t, i): int(v) for t, i, v in rows}

    def list_indexes(self, ns: str, obj: str) -> list[IndexUsage]:
        return self._indexes(ns, obj)

    def _drop(self, index: IndexUsage) -> str:
        table = f"{self._q(index.namespace)}.{self._q(index.table)}"
        return f"ALTER TABLE {table} DROP INDEX {self._q(index.name)}, ALGORITHM=INPLACE, LOCK=NONE;"

    def findings(self, ns: str) -> list[IndexFinding]:
        indexes = self._indexes(ns, None)
        found = duplicates_and_prefixes(indexes, self._drop)
        for index in indexes:
            if index.scans == 0 and not index.backs_constraint:
                detail = "no use counted since statistics started, and it backs no constraint"
                found.append(
                    IndexFinding("unused", ns, index.table, index.name, detail, index.size_bytes, self._drop(index))
                )
        return found

    def suggest(self, statement: str) -> list[IndexSuggestion]:
        """Heuristic: full scans in the plan with a filter, indexed in equality-sort-range order."""
        statement = one_statement(statement)
        document = lenient_json(self.adapter._execute("EXPLAIN FORMAT=JSON " + statement)[0][0])
        self.adapter._rollback()
        ns = self.adapter.params.database
        found: list[IndexSuggestion] = []
        stack: list[Any] = [document]
        while stack:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(item)
                continue
            if not isinstance(item, dict):
                continue
            stack.extend(v for v in item.values() if isinstance(v, dict | list))
            if item.get("access_type") == "ALL" and item.get("attached_condition") and item.get("table_name"):
                equal, ranged = compared_columns(str(item["attached_condition"]))
                table = str(item["table_name"])
                for columns in esr(equal, [], ranged):
                    cols = ", ".join(self._q(c) for c in columns)
                    create = (
                        f"ALTER TABLE {self._q(ns)}.{self._q(table)} ADD INDEX ({cols}), ALGORITHM=INPLACE, LOCK=NONE;"
                    )
                    rows = item.get("rows")
                    why = (
                        f"Heuristic (from the plan, not measured): a full scan of about {rows} rows"
                        f" filters on {', '.join(columns)}."
                    )
                    found.append(IndexSuggestion(ns, table, columns, create, "heuristic", reason=why))
        return found

    # ---- builds ----------------------------------------------------------------------
    def create(self, ns: str, obj: str, columns: tuple[str, ...], *, unique: bool = False) -> Iterator[Progress]:
        refuse_nul(ns, obj, *columns)
        if not columns:
            raise EngineError("Choose at least one column for the index.", kind="config")
        name = index_name(obj, columns, limit=64)
        cols = ", ".join(self._q(c) for c in columns)
        kind = "UNIQUE INDEX" if unique else "INDEX"
        yield Progress(f"building {name}")
        yield from self._alter(
            f"ALTER TABLE {self._q(ns)}.{self._q(obj)} ADD {kind} {self._q(name)} ({cols}),"
            " ALGORITHM=INPLACE, LOCK=NONE"
        )

    def drop(self, ns: str, obj: str, name: str) -> Iterator[Progress]:
        refuse_nul(ns, obj, name)
        yield Progress(f"dropping {name}")
        yield from self._alter(
            f"ALTER TABLE {self._q(ns)}.{self._q(obj)} DROP INDEX {self._q(name)}, ALGORITHM=INPLACE, LOCK=NONE"
        )

    def _alter(self, sql: str) -> Iterator[Progress]:
        """Run the ALTER on its own session with a build-length timeout; MariaDB reports its progress."""
        builder = type(self.adapter)(dataclasses.replace(self.adapter.params, statement_timeout=BUILD_TIMEOUT_S))
        outcome: dict[str, BaseException] = {}
        try:
            thread_id = builder._execute("SELECT CONNECTION_ID()")[0][0]

            def build() -> None:
                try:
                    builder._execute(sql)
                except BaseException as exc:  # reported below
                    outcome["error"] = exc

            worker = threading.Thread(target=build, name="dbdeck-index-build", daemon=True)
            worker.start()
            while worker.is_alive():
                worker.join(POLL_S)
                if worker.is_alive() and self.adapter.is_mariadb:
                    yield self._progress(thread_id)
        finally:
            builder.close()
        if "error" in outcome:
            error = outcome["error"]
            if isinstance(error, pymysql.MySQLError):
                raise self.adapter._translate(error) from None
            raise error
        yield Progress("done", 1, 1)

    def _progress(self, thread_id: int) -> Progress:
        rows = self.adapter._execute(
            "SELECT STAGE, MAX_STAGE, PROGRESS FROM information_schema.PROCESSLIST WHERE ID = %s", [thread_id]
        )
        self.adapter._rollback()
        if not rows:
            return Progress("finishing")
        stage, stages, percent = rows[0]
        return Progress(f"stage {stage} of {stages}", int(float(percent or 0) * 10), 1000)
