"""PostgreSQL monitoring: pg_stat_statements as cumulative counters (never reset), health and sessions.

dbdeck only ever reads pg_stat_statements; the collector diffs snapshots. A reset by someone
else shows as `stats_reset` moving (pg_stat_statements_info, PostgreSQL 14+) or counters going
down, and deallocated statements (pg_stat_statements.max reached) as the `dealloc` counter.
Every statement here has a fixed text (arrays go as one text parameter), so the server's own
pg_stat_statements gains no new entries tick after tick.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from connections.engines.base import EngineError
from connections.engines.capabilities import Monitor
from connections.engines.results import Metric, QueryStat, SessionInfo, Snapshot
from connections.engines.sqlbase import TAG

STATEMENTS_13 = """
SELECT s.dbid::text || ':' || s.queryid::text, d.datname,
       sum(s.calls)::int8, sum(s.total_exec_time)::float8, sum(s.rows)::int8,
       sum(s.shared_blks_hit)::float8, sum(s.shared_blks_read)::float8,
       sum(s.temp_blks_read + s.temp_blks_written)::float8, sum(s.wal_bytes)::float8, max(s.max_exec_time)::float8
FROM pg_stat_statements(false) s LEFT JOIN pg_database d ON d.oid = s.dbid
WHERE s.queryid IS NOT NULL
GROUP BY s.dbid, s.queryid, d.datname
"""
STATEMENTS_OLD = """
SELECT s.dbid::text || ':' || s.queryid::text, d.datname,
       sum(s.calls)::int8, sum(s.total_time)::float8, sum(s.rows)::int8,
       sum(s.shared_blks_hit)::float8, sum(s.shared_blks_read)::float8,
       sum(s.temp_blks_read + s.temp_blks_written)::float8, 0::float8, max(s.max_time)::float8
FROM pg_stat_statements(false) s LEFT JOIN pg_database d ON d.oid = s.dbid
WHERE s.queryid IS NOT NULL
GROUP BY s.dbid, s.queryid, d.datname
"""
# Texts only for statements the caller has not stored yet: one text parameter, one fixed statement.
TEXTS = """
SELECT DISTINCT ON (s.dbid, s.queryid) s.dbid::text || ':' || s.queryid::text, s.query
FROM pg_stat_statements(true) s
WHERE s.dbid::text || ':' || s.queryid::text = ANY(string_to_array(%s, ','))
"""
DATABASE = """
SELECT xact_commit, xact_rollback, blks_hit, blks_read, temp_files, temp_bytes, deadlocks,
       tup_returned, tup_fetched, tup_inserted, tup_updated, tup_deleted, pg_database_size(datname),
       (SELECT max(age(datfrozenxid)) FROM pg_database)
FROM pg_stat_database WHERE datname = current_database()
"""
DATABASE_FIELDS = (
    "commits",
    "rollbacks",
    "blocks_hit",
    "blocks_read",
    "temp_files",
    "temp_bytes",
    "deadlocks",
    "rows_returned",
    "rows_fetched",
    "rows_inserted",
    "rows_updated",
    "rows_deleted",
)
ACTIVITY = """
SELECT coalesce(state, 'unknown'), coalesce(wait_event_type, ''), count(*),
       coalesce(max(extract(epoch FROM now() - xact_start)) FILTER (WHERE state <> 'idle'), 0),
       coalesce(max(extract(epoch FROM now() - state_change))
                FILTER (WHERE state IN ('idle in transaction', 'idle in transaction (aborted)')), 0),
       count(*) FILTER (WHERE cardinality(pg_blocking_pids(pid)) > 0)
FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()
GROUP BY 1, 2
"""
REPLICATION = """
SELECT coalesce(application_name, '') || '@' || coalesce(client_addr::text, 'local'),
       coalesce(extract(epoch FROM replay_lag), 0), coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn), 0)
FROM pg_stat_replication
"""
STANDBY = """
SELECT pg_is_in_recovery(),
       CASE WHEN pg_is_in_recovery() THEN coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0) END
"""
TABLES = """
SELECT n.nspname || '.' || c.relname, coalesce(s.n_dead_tup, 0), coalesce(s.n_live_tup, 0),
       pg_total_relation_size(c.oid), greatest(s.last_vacuum, s.last_autovacuum)
FROM (SELECT oid, relname, relnamespace FROM pg_class WHERE relkind IN ('r', 'm', 'p')
      ORDER BY relpages DESC LIMIT 20) c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
"""
SESSIONS = """
SELECT pid::text, coalesce(usename, ''), coalesce(datname, ''), coalesce(state, ''), coalesce(left(query, 2000), ''),
       query_start, coalesce(wait_event_type || ':' || wait_event, ''), pg_blocking_pids(pid)::text[], xact_start,
       coalesce(client_addr::text, 'local'), coalesce(application_name, '')
FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()
ORDER BY xact_start NULLS LAST, pid LIMIT 500
"""


class PostgreSQLMonitor(Monitor):
    statement_source = "pg_stat_statements"
    queries = 0

    def _rows(self, sql: str, args: list[Any] | None = None) -> list[tuple[Any, ...]]:
        self.queries += 1
        return self.adapter._execute(sql, args or [])  # type: ignore[attr-defined]

    def _raw(self, sql: str) -> list[tuple[Any, ...]]:
        """Rows as the driver gives them (the adapter's per-value conversion costs more than the query here)."""
        self.queries += 1
        adapter: Any = self.adapter
        with adapter._driver_errors(rollback=True), adapter._conn().cursor() as cur:
            cur.execute(TAG + sql)
            return cur.fetchall()

    def snapshot(self, position: str | None = None, known: frozenset[str] = frozenset()) -> Snapshot:
        self.queries = 0
        snap = Snapshot(taken_at=dt.datetime.now(dt.UTC))
        try:
            self._statements(snap, known)
            self._health(snap)
        finally:
            self.adapter._rollback()  # type: ignore[attr-defined]
        snap.queries = self.queries
        return snap

    def _statements(self, snap: Snapshot, known: frozenset[str]) -> None:
        rows = self._rows(
            "SELECT current_setting('server_version_num')::int,"
            " (SELECT extversion FROM pg_extension WHERE extname = 'pg_stat_statements')"
        )
        version, extension = rows[0]
        if extension is None:
            snap.notices.append(
                "pg_stat_statements is not installed in this database, so there is no statement history: add "
                "pg_stat_statements to shared_preload_libraries, restart, then run CREATE EXTENSION pg_stat_statements."
            )
            return
        try:
            stats = self._raw(STATEMENTS_13 if version >= 130000 else STATEMENTS_OLD)
        except EngineError as exc:
            self.adapter._rollback()  # type: ignore[attr-defined]
            snap.notices.append(
                f"pg_stat_statements could not be read ({exc.message}); is it in shared_preload_libraries?"
            )
            return
        missing = [row[0] for row in stats if row[0] not in known]
        texts: dict[str, str] = {}
        if missing:
            texts = dict(self._rows(TEXTS, [",".join(missing)]))
        # 5,000 statements a tick: values arrive as int and float (cast in SQL), no per-value conversion.
        snap.statements = [
            QueryStat(
                key,
                texts.get(key, ""),
                calls,
                total,
                nrows,
                datname or "",
                "",
                {
                    "shared_hit": hit,
                    "shared_read": read,
                    "temp_blocks": temp,
                    "wal_bytes": wal or 0.0,
                    "max_ms": longest,
                },
            )
            for key, datname, calls, total, nrows, hit, read, temp, wal, longest in stats
        ]
        if version >= 140000:
            dealloc, reset = self._rows("SELECT dealloc, stats_reset FROM pg_stat_statements_info")[0]
            snap.stats_reset = reset
            snap.metrics.append(Metric("statements_deallocated", float(dealloc), counter=True))

    def _health(self, snap: Snapshot) -> None:
        add = snap.metrics.append
        row = self._rows(DATABASE)
        if row:
            values = row[0]
            for name, value in zip(DATABASE_FIELDS, values, strict=False):
                add(Metric(name, float(value or 0), counter=True))
            add(Metric("database_bytes", float(values[12] or 0)))
            add(Metric("xid_age", float(values[13] or 0)))
        total = blocked = 0
        longest = idle_xact = 0.0
        states: dict[str, int] = {}
        waits: dict[str, int] = {}
        for state, wait, count, xact_age, idle_age, blocked_n in self._rows(ACTIVITY):
            total += count
            blocked += blocked_n
            states[state] = states.get(state, 0) + count
            if wait:
                waits[wait] = waits.get(wait, 0) + count
            longest = max(longest, float(xact_age))
            idle_xact = max(idle_xact, float(idle_age))
        add(Metric("sessions", float(total)))
        for state, count in states.items():
            add(Metric("sessions_by_state", float(count), labels={"state": state}))
        for wait, count in waits.items():
            add(Metric("sessions_waiting", float(count), labels={"wait": wait}))
        add(Metric("blocked_sessions", float(blocked)))
        add(Metric("longest_transaction_s", longest))
        add(Metric("idle_in_transaction_s", idle_xact))
        for standby, lag_s, lag_bytes in self._rows(REPLICATION):
            add(Metric("replication_lag_s", float(lag_s), labels={"standby": standby}))
            add(Metric("replication_lag_bytes", float(lag_bytes), labels={"standby": standby}))
        in_recovery, replay_lag = self._rows(STANDBY)[0]
        if in_recovery:
            add(Metric("replication_lag_s", float(replay_lag or 0), labels={"standby": "this server"}))
        for table, dead, live, size, vacuumed in self._rows(TABLES):
            labels = {"table": table, "last_vacuum": vacuumed.isoformat() if vacuumed else "never"}
            add(Metric("dead_tuples", float(dead), labels=labels))
            add(Metric("live_tuples", float(live), labels={"table": table}))
            add(Metric("table_bytes", float(size), labels={"table": table}))

    def sessions(self) -> list[SessionInfo]:
        try:
            rows = self.adapter._execute(SESSIONS)  # type: ignore[attr-defined]
        finally:
            self.adapter._rollback()  # type: ignore[attr-defined]
        return [
            SessionInfo(
                id=pid,
                user=user,
                database=db,
                state=state,
                statement=query,
                started=started,
                waiting_on=wait,
                blocked_by=tuple(blockers or ()),
                xact_started=xact,
                client=client,
                application=app,
            )
            for pid, user, db, state, query, started, wait, blockers, xact, client, app in rows
        ]

    def _signal(self, function: str, session_id: str) -> None:
        if not session_id.isdigit():
            raise EngineError("A PostgreSQL session is a process id (a number).", kind="config")
        try:
            done = self.adapter._execute(f"SELECT {function}(%s::int)", [int(session_id)])  # type: ignore[attr-defined]
            self.adapter._commit()  # type: ignore[attr-defined]
        finally:
            self.adapter._rollback()  # type: ignore[attr-defined]
        if not done or not done[0][0]:
            raise EngineError(f"Session {session_id} is gone or could not be signalled.", kind="database")

    def cancel_session(self, session_id: str) -> None:
        self._signal("pg_cancel_backend", session_id)

    def terminate_session(self, session_id: str) -> None:
        self._signal("pg_terminate_backend", session_id)
