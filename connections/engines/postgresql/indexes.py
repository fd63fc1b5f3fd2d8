"""PostgreSQL's index tools: usage from pg_stat_user_indexes, findings, HypoPG what-if, CONCURRENTLY builds."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import psycopg2

from connections.engines.base import EngineError, refuse_nul
from connections.engines.capabilities import IndexTools
from connections.engines.indexfindings import duplicates_and_prefixes, index_name
from connections.engines.results import IndexFinding, IndexSuggestion, IndexUsage, Progress
from connections.engines.sqlbase import TAG

BUILD_TIMEOUT_S = 6 * 3600
LOCK_TIMEOUT_MS = 5000
POLL_S = 0.5
HEAVY_SCAN_ROWS = 10_000
MAX_INDEXES = 5000

INDEXES_SQL = (
    "SELECT n.nspname, t.relname, c.relname, i.indisunique, i.indisprimary, i.indisvalid,"
    " EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid),"
    " pg_relation_size(c.oid), s.idx_scan, pg_get_indexdef(i.indexrelid),"
    " ARRAY(SELECT coalesce(a.attname::text, pg_get_indexdef(i.indexrelid, k, true))"
    "       FROM generate_series(1, i.indnkeyatts) k LEFT JOIN pg_attribute a"
    "       ON a.attrelid = i.indrelid AND a.attnum = i.indkey[k - 1] AND a.attnum > 0 ORDER BY k),"
    " am.amname, coalesce(pg_get_expr(i.indpred, i.indrelid), ''), c.relkind"
    " FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid"
    " JOIN pg_namespace n ON n.oid = t.relnamespace JOIN pg_am am ON am.oid = c.relam"
    " LEFT JOIN pg_stat_user_indexes s ON s.indexrelid = i.indexrelid"
)


class PostgreSQLIndexTools(IndexTools):
    online = True
    hypothetical = True  # with HypoPG installed; otherwise suggest() says how and falls back to heuristics
    notice = ""

    def _q(self, name: str) -> str:
        return self.adapter.dialect.quote(name)

    def _rows(self, where: str, args: list[Any]) -> list[tuple[IndexUsage, tuple[str, str], str]]:
        rows = self.adapter._execute(f"{INDEXES_SQL} WHERE {where} ORDER BY 2, 3 LIMIT {MAX_INDEXES}", args)
        reset = self.adapter._execute("SELECT stats_reset FROM pg_stat_database WHERE datname = current_database()")
        self.adapter._rollback()
        since = reset[0][0] if reset else None
        found = []
        for ns, table, name, unique, primary, valid, backs, size, scans, definition, cols, am, pred, kind in rows:
            usage = IndexUsage(
                namespace=ns,
                table=table,
                name=name,
                columns=tuple(cols),
                definition=definition,
                unique=unique,
                primary=primary,
                backs_constraint=backs,
                valid=valid,
                size_bytes=size,
                scans=scans,
                stats_since=since,
            )
            found.append((usage, (am, pred), kind))
        return found

    def list_indexes(self, ns: str, obj: str) -> list[IndexUsage]:
        refuse_nul(ns, obj)
        return [u for u, _, _ in self._rows("n.nspname = %s AND t.relname = %s", [ns, obj])]

    def _drop(self, index: IndexUsage) -> str:
        return f"DROP INDEX CONCURRENTLY {self._q(index.namespace)}.{self._q(index.name)};"

    def findings(self, ns: str) -> list[IndexFinding]:
        refuse_nul(ns)
        rows = self._rows("n.nspname = %s", [ns])
        keys = {u.name: key for u, key, _ in rows}
        found: list[IndexFinding] = []
        for usage, _key, kind in rows:
            if not usage.valid:
                rebuild = usage.definition.replace(" INDEX ", " INDEX CONCURRENTLY ", 1)
                found.append(
                    IndexFinding(
                        "invalid",
                        ns,
                        usage.table,
                        usage.name,
                        "a failed or interrupted build left it invalid: it costs writes and serves no reads",
                        usage.size_bytes,
                        f"{self._drop(usage)} {rebuild};",
                    )
                )
            elif usage.scans == 0 and kind == "i" and not (usage.unique or usage.primary or usage.backs_constraint):
                found.append(
                    IndexFinding(
                        "unused",
                        ns,
                        usage.table,
                        usage.name,
                        "no scans since statistics were reset, and it backs no constraint",
                        usage.size_bytes,
                        self._drop(usage),
                    )
                )
        found += duplicates_and_prefixes([u for u, _, _ in rows], self._drop, key=lambda u: keys[u.name])
        found += self._heavy_scans(ns)
        return found

    def _heavy_scans(self, ns: str) -> list[IndexFinding]:
        rows = self.adapter._execute(
            "SELECT relname, seq_scan, seq_tup_read, coalesce(idx_scan, 0), n_live_tup, pg_relation_size(relid)"
            " FROM pg_stat_user_tables WHERE schemaname = %s AND seq_scan > 0 AND n_live_tup >= %s"
            " AND seq_tup_read / seq_scan >= %s AND seq_scan > coalesce(idx_scan, 0)"
            " ORDER BY seq_tup_read DESC LIMIT 50",
            [ns, HEAVY_SCAN_ROWS, HEAVY_SCAN_ROWS],
        )
        self.adapter._rollback()
        return [
            IndexFinding(
                "missing",
                ns,
                table,
                "",
                f"{scans:,} sequential scans read {reads // scans:,} rows each on average"
                f" (index scans: {idx:,}); no index serves those queries",
                size,
                "-- run the table's slow queries through the what-if check to find the index to add",
            )
            for table, scans, reads, idx, _live, size in rows
        ]

    def suggest(self, statement: str) -> list[IndexSuggestion]:
        from connections.engines.postgresql.whatif import suggest

        suggestions, self.notice = suggest(self.adapter, statement)
        return suggestions

    # ---- builds ----------------------------------------------------------------------
    def create(self, ns: str, obj: str, columns: tuple[str, ...], *, unique: bool = False) -> Iterator[Progress]:
        refuse_nul(ns, obj, *columns)
        if not columns:
            raise EngineError("Choose at least one column for the index.", kind="config")
        name = index_name(obj, columns)
        cols = ", ".join(self._q(c) for c in columns)
        kind = "UNIQUE INDEX" if unique else "INDEX"
        sql = f"CREATE {kind} CONCURRENTLY {self._q(name)} ON {self._q(ns)}.{self._q(obj)} ({cols})"
        yield Progress(f"building {name}")
        yield from self._concurrently(sql, ns, name)

    def drop(self, ns: str, obj: str, name: str) -> Iterator[Progress]:
        refuse_nul(ns, obj, name)
        yield Progress(f"dropping {name}")
        yield from self._concurrently(f"DROP INDEX CONCURRENTLY {self._q(ns)}.{self._q(name)}", ns, None)

    def _concurrently(self, sql: str, ns: str, built: str | None) -> Iterator[Progress]:
        """Run a CONCURRENTLY statement outside a transaction, polling its progress from a second session."""
        adapter = self.adapter
        conn = adapter._conn()
        adapter._rollback()
        conn.autocommit = True
        outcome: dict[str, BaseException] = {}
        try:
            with conn.cursor() as cur:
                cur.execute(TAG + "SELECT pg_backend_pid()")
                pid = cur.fetchone()[0]
                cur.execute(f"SET lock_timeout = {LOCK_TIMEOUT_MS}")
                cur.execute(f"SET statement_timeout = {BUILD_TIMEOUT_S * 1000}")

            def build() -> None:
                try:
                    with conn.cursor() as cur:
                        cur.execute(TAG + sql)
                except BaseException as exc:  # reported by the generator below
                    outcome["error"] = exc

            worker = threading.Thread(target=build, name="dbdeck-index-build", daemon=True)
            worker.start()
            watcher = type(adapter)(adapter.params)
            try:
                while worker.is_alive():
                    worker.join(POLL_S)
                    if worker.is_alive() and built:
                        yield self._progress(watcher, pid)
            finally:
                watcher.close()
            error = outcome.get("error")
            if error is not None:
                if built:
                    self._drop_invalid(conn, ns, built)
                if isinstance(error, psycopg2.Error):
                    raise adapter._translate(error) from None
                raise error
            yield Progress("done", 1, 1)
        finally:
            with conn.cursor() as cur:
                cur.execute(f"SET statement_timeout = {int(adapter.params.statement_timeout * 1000)}")
                cur.execute("SET lock_timeout = 10000")
            conn.autocommit = False

    @staticmethod
    def _progress(watcher: Any, pid: int) -> Progress:
        rows = watcher._execute(
            "SELECT phase, blocks_done, blocks_total, tuples_done, tuples_total"
            " FROM pg_stat_progress_create_index WHERE pid = %s",
            [pid],
        )
        watcher._rollback()
        if not rows:
            return Progress("waiting")
        phase, blocks_done, blocks_total, tuples_done, tuples_total = rows[0]
        if blocks_total:
            return Progress(phase, int(blocks_done), int(blocks_total))
        return Progress(phase, int(tuples_done or 0), int(tuples_total) if tuples_total else None)

    def _drop_invalid(self, conn: Any, ns: str, name: str) -> None:
        """A failed CONCURRENTLY build leaves an invalid index behind: drop it so nothing half-made stays."""
        with conn.cursor() as cur:
            cur.execute(
                TAG + "SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
                " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = %s"
                " AND NOT i.indisvalid",
                [ns, name],
            )
            if cur.fetchone():
                cur.execute(TAG + f"DROP INDEX CONCURRENTLY IF EXISTS {self._q(ns)}.{self._q(name)}")
