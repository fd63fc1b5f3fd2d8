"""MySQL / MariaDB monitoring: performance_schema digests as cumulative counters, global status, processlist.

Nothing here truncates a performance_schema table; the collector diffs snapshots. Timers
are picoseconds in performance_schema and milliseconds here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from connections.engines.base import EngineError
from connections.engines.capabilities import Monitor
from connections.engines.results import Metric, QueryStat, SessionInfo, Snapshot

PS_OFF = (
    "performance_schema is off on this server, so there is no statement history. Turn it on with "
    "performance_schema=ON under [mysqld] in the server's configuration (my.cnf) and restart the server; "
    "health figures and sessions work without it."
)
DIGESTS = """
SELECT coalesce(SCHEMA_NAME, '') , DIGEST, DIGEST_TEXT, COUNT_STAR, SUM_TIMER_WAIT / 1000000000,
       SUM_ROWS_SENT, SUM_ROWS_EXAMINED, SUM_NO_INDEX_USED, SUM_CREATED_TMP_DISK_TABLES, MAX_TIMER_WAIT / 1000000000
FROM performance_schema.events_statements_summary_by_digest WHERE DIGEST IS NOT NULL
"""
STATUS = {
    "Queries": ("queries", True),
    "Questions": ("questions", True),
    "Com_commit": ("commits", True),
    "Com_rollback": ("rollbacks", True),
    "Slow_queries": ("slow_queries", True),
    "Threads_running": ("threads_running", False),
    "Threads_connected": ("sessions", False),
    "Innodb_buffer_pool_read_requests": ("blocks_hit", True),
    "Innodb_buffer_pool_reads": ("blocks_read", True),
    "Innodb_row_lock_waits": ("row_lock_waits", True),
    "Innodb_row_lock_time": ("row_lock_ms", True),
    "Innodb_deadlocks": ("deadlocks", True),
    "Created_tmp_disk_tables": ("temp_files", True),
    "Bytes_received": ("bytes_received", True),
    "Bytes_sent": ("bytes_sent", True),
}
PROCESSES = """
SELECT p.ID, coalesce(p.USER, ''), coalesce(p.DB, ''), coalesce(p.COMMAND, ''), coalesce(p.STATE, ''),
       coalesce(left(p.INFO, 2000), ''), p.TIME, coalesce(p.HOST, ''), t.trx_started
FROM information_schema.PROCESSLIST p LEFT JOIN information_schema.INNODB_TRX t ON t.trx_mysql_thread_id = p.ID
WHERE p.ID <> CONNECTION_ID() ORDER BY p.TIME DESC LIMIT 500
"""
LOCK_WAITS = """
SELECT r.trx_mysql_thread_id, b.trx_mysql_thread_id
FROM information_schema.INNODB_LOCK_WAITS w
JOIN information_schema.INNODB_TRX r ON r.trx_id = w.requesting_trx_id
JOIN information_schema.INNODB_TRX b ON b.trx_id = w.blocking_trx_id
"""
LOCK_WAITS_8 = """
SELECT REQUESTING_THREAD_ID, BLOCKING_THREAD_ID FROM performance_schema.data_lock_waits
"""


class MySQLMonitor(Monitor):
    statement_source = "performance_schema statement digests"
    queries = 0

    def _rows(self, sql: str, args: list[Any] | None = None) -> list[tuple[Any, ...]]:
        self.queries += 1
        return self.adapter._execute(sql, args or [])  # type: ignore[attr-defined]

    def snapshot(self, position: str | None = None, known: frozenset[str] = frozenset()) -> Snapshot:
        self.queries = 0
        snap = Snapshot(taken_at=dt.datetime.now(dt.UTC))
        try:
            self._statements(snap)
            self._health(snap)
        finally:
            self.adapter._rollback()  # type: ignore[attr-defined]
        snap.queries = self.queries
        return snap

    def _statements(self, snap: Snapshot) -> None:
        (enabled,) = self._rows("SELECT @@performance_schema")[0]
        if not int(enabled):
            snap.notices.append(PS_OFF)
            return
        for schema, digest, text, calls, total, sent, examined, no_index, tmp_disk, longest in self._rows(DIGESTS):
            snap.statements.append(
                QueryStat(
                    fingerprint=f"{schema}:{digest}",
                    text=text or "",
                    calls=int(calls),
                    total_ms=float(total or 0),
                    rows=int(sent or 0),
                    database=schema,
                    extra={
                        "rows_examined": float(examined or 0),
                        "no_index_used": float(no_index or 0),
                        "tmp_disk_tables": float(tmp_disk or 0),
                        "max_ms": float(longest or 0),
                    },
                )
            )

    def _health(self, snap: Snapshot) -> None:
        add = snap.metrics.append
        names = ",".join(STATUS)
        rows = self._rows(
            "SELECT VARIABLE_NAME, VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS"
            " WHERE FIND_IN_SET(VARIABLE_NAME, %s)",
            [names.upper()],
        )
        by_name = {str(k).lower(): v for k, v in rows}
        for status, (metric, counter) in STATUS.items():
            value = by_name.get(status.lower())
            if value is not None:
                add(Metric(metric, float(value), counter=counter))
        (size,) = self._rows(
            "SELECT coalesce(sum(DATA_LENGTH + INDEX_LENGTH), 0) FROM information_schema.TABLES"
            " WHERE TABLE_SCHEMA NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')"
        )[0]
        add(Metric("database_bytes", float(size)))
        longest = idle = 0.0
        now = dt.datetime.now()
        for _id, _u, _db, command, _s, _i, _t, _h, trx_started in self._rows(PROCESSES):
            if trx_started is not None:
                age = max(0.0, (now - trx_started).total_seconds())
                longest = max(longest, age)
                if command == "Sleep":
                    idle = max(idle, age)
        add(Metric("longest_transaction_s", longest))
        add(Metric("idle_in_transaction_s", idle))
        add(Metric("blocked_sessions", float(len({waiter for waiter, _ in self._lock_waits()}))))
        self._replica(snap)

    def _lock_waits(self) -> list[tuple[Any, ...]]:
        try:
            return self._rows(LOCK_WAITS)
        except EngineError:
            self.adapter._rollback()  # type: ignore[attr-defined]
            try:
                return self._rows(LOCK_WAITS_8)
            except EngineError:
                return []

    def _replica(self, snap: Snapshot) -> None:
        conn = self.adapter._conn()  # type: ignore[attr-defined]
        for statement in ("SHOW REPLICA STATUS", "SHOW SLAVE STATUS"):
            try:
                with conn.cursor() as cur:
                    self.queries += 1
                    cur.execute("/* dbdeck */ " + statement)
                    columns = [d[0] for d in cur.description or ()]
                    rows = cur.fetchall()
                break
            except Exception:  # noqa: BLE001, S112 - MySQL before 8.0.22 knows only the older spelling
                continue
        else:
            return
        for row in rows:
            status = dict(zip(columns, row, strict=False))
            lag = status.get("Seconds_Behind_Source", status.get("Seconds_Behind_Master"))
            source = str(status.get("Source_Host") or status.get("Master_Host") or "source")
            if lag is None:
                snap.notices.append(f"Replication from {source} is not running (Seconds_Behind_Master is NULL).")
            else:
                snap.metrics.append(
                    Metric("replication_lag_s", float(lag), labels={"standby": f"this server <- {source}"})
                )

    def sessions(self) -> list[SessionInfo]:
        try:
            waits = self._lock_waits()
            rows = self._rows(PROCESSES)
        finally:
            self.adapter._rollback()  # type: ignore[attr-defined]
        blockers: dict[str, list[str]] = {}
        for waiter, blocker in waits:
            blockers.setdefault(str(waiter), []).append(str(blocker))
        now = dt.datetime.now(dt.UTC)
        out = []
        for pid, user, db, command, state, info, seconds, host, trx in rows:
            out.append(
                SessionInfo(
                    id=str(pid),
                    user=user,
                    database=db,
                    state=f"{command} {state}".strip(),
                    statement=info,
                    started=now - dt.timedelta(seconds=int(seconds or 0)),
                    waiting_on="lock" if str(pid) in blockers else "",
                    blocked_by=tuple(blockers.get(str(pid), ())),
                    xact_started=trx.replace(tzinfo=dt.UTC) if trx else None,
                    client=host,
                )
            )
        return out

    def _kill(self, statement: str, session_id: str) -> None:
        if not session_id.isdigit():
            raise EngineError("A MySQL session is a thread id (a number).", kind="config")
        self.adapter._execute(statement + " %s", [int(session_id)])  # type: ignore[attr-defined]

    def cancel_session(self, session_id: str) -> None:
        self._kill("KILL QUERY", session_id)

    def terminate_session(self, session_id: str) -> None:
        self._kill("KILL", session_id)
