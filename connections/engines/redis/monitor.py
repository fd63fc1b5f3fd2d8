"""Redis monitoring: INFO commandstats as cumulative counters, SLOWLOG read by entry id, health, clients.

The slowlog is a ring: entries are read newest first and kept only when their id is past
`position`; dbdeck never sends SLOWLOG RESET. An id below `position` means the server
restarted or someone reset the log, and reading starts over.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from connections.engines.base import EngineError
from connections.engines.capabilities import Monitor
from connections.engines.results import Metric, QueryStat, SessionInfo, Snapshot

SLOWLOG_READ = 128
COUNTERS = {
    "total_commands_processed": "commands",
    "keyspace_hits": "keyspace_hits",
    "keyspace_misses": "keyspace_misses",
    "evicted_keys": "evictions",
    "expired_keys": "expired_keys",
    "rejected_connections": "rejected_connections",
    "total_net_input_bytes": "bytes_received",
    "total_net_output_bytes": "bytes_sent",
}
GAUGES = {
    "connected_clients": "sessions",
    "blocked_clients": "blocked_sessions",
    "used_memory": "database_bytes",
    "used_memory_rss": "memory_rss_bytes",
    "mem_fragmentation_ratio": "memory_fragmentation",
    "instantaneous_ops_per_sec": "ops_per_sec",
}


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def shape(args: list[Any]) -> str:
    """A slowlog entry's command without its values: `HSET ? ? ?` (keys are values too)."""
    if not args:
        return "?"
    command = _text(args[0]).upper()
    return " ".join([command, *("?" for _ in args[1:])]) if len(args) < 12 else f"{command} ?…({len(args) - 1} args)"


class RedisMonitor(Monitor):
    statement_source = "INFO commandstats and SLOWLOG"
    queries = 0

    def _call(self, *args: Any) -> Any:
        self.queries += 1
        client = self.adapter._client()  # type: ignore[attr-defined]
        return self.adapter._call(client.execute_command, *args)  # type: ignore[attr-defined]

    def snapshot(self, position: str | None = None, known: frozenset[str] = frozenset()) -> Snapshot:
        self.queries = 0
        snap = Snapshot(taken_at=dt.datetime.now(dt.UTC))
        info = self.adapter._call(self.adapter._client().info, "all")  # type: ignore[attr-defined]
        self.queries += 1
        self._commandstats(snap, info)
        self._health(snap, info)
        snap.position = self._slowlog(snap, position)
        self._latency(snap)
        snap.queries = self.queries
        return snap

    def _commandstats(self, snap: Snapshot, info: dict[str, Any]) -> None:
        for key, value in info.items():
            if not key.startswith("cmdstat_") or not isinstance(value, dict):
                continue
            command = key.removeprefix("cmdstat_").upper()
            snap.statements.append(
                QueryStat(
                    fingerprint=f"cmd:{command}",
                    text=command,
                    calls=int(value.get("calls", 0)),
                    total_ms=float(value.get("usec", 0)) / 1000,
                    extra={
                        "failed": float(value.get("failed_calls", 0)),
                        "rejected": float(value.get("rejected_calls", 0)),
                    },
                )
            )

    def _health(self, snap: Snapshot, info: dict[str, Any]) -> None:
        add = snap.metrics.append
        for key, name in COUNTERS.items():
            if key in info:
                add(Metric(name, float(info[key]), counter=True))
        for key, name in GAUGES.items():
            if key in info:
                add(Metric(name, float(info[key])))
        offset = info.get("master_repl_offset")
        for key, value in info.items():
            if key.startswith("slave") and key[5:].isdigit() and isinstance(value, dict) and offset is not None:
                standby = f"{value.get('ip')}:{value.get('port')}"
                add(
                    Metric(
                        "replication_lag_bytes",
                        float(offset) - float(value.get("offset", 0)),
                        labels={"standby": standby},
                    )
                )
                add(Metric("replication_lag_s", float(value.get("lag", 0)), labels={"standby": standby}))
        if info.get("role") == "slave":
            lag = info.get("master_last_io_seconds_ago", 0)
            add(Metric("replication_lag_s", float(max(lag, 0)), labels={"standby": "this server"}))
        if "uptime_in_seconds" in info:
            add(Metric("uptime_s", float(info["uptime_in_seconds"])))

    def _slowlog(self, snap: Snapshot, position: str | None) -> str | None:
        try:
            entries = self._call("SLOWLOG", "GET", SLOWLOG_READ)
        except EngineError as exc:
            snap.notices.append(f"SLOWLOG could not be read ({exc.message}).")
            return position
        last = int(position) if position and position.lstrip("-").isdigit() else -1
        newest = max((int(e[0]) for e in entries), default=-1)
        if newest < last:  # the ring restarted (server restart or someone else's SLOWLOG RESET)
            snap.notices.append("The slowlog restarted since the last read (a server restart or SLOWLOG RESET).")
            last = -1
        fresh = [e for e in entries if int(e[0]) > last]
        if last >= 0 and fresh and min(int(e[0]) for e in fresh) > last + 1:
            snap.notices.append("Some slowlog entries were overwritten before they were read (slowlog-max-len).")
        grouped: dict[str, list[float]] = {}
        for entry in fresh:
            text = shape(list(entry[3]))
            grouped.setdefault(text, []).append(int(entry[2]) / 1000)
        for text, durations in grouped.items():
            snap.increments.append(
                QueryStat(
                    fingerprint="slowlog:" + hashlib.sha1(text.encode()).hexdigest()[:16],  # noqa: S324 - a name
                    text=f"SLOWLOG {text}",
                    calls=len(durations),
                    total_ms=sum(durations),
                    extra={"max_ms": max(durations)},
                )
            )
        if newest < 0:
            return str(last) if last >= 0 else None
        return str(newest)

    def _latency(self, snap: Snapshot) -> None:
        try:
            events = self._call("LATENCY", "LATEST")
        except EngineError:
            return  # latency monitoring disabled or refused by ACL
        for event in events or ():
            snap.metrics.append(Metric("latency_latest_ms", float(event[2]), labels={"event": _text(event[0])}))

    def sessions(self) -> list[SessionInfo]:
        clients = self.adapter._call(self.adapter._client().client_list)  # type: ignore[attr-defined]
        now = dt.datetime.now(dt.UTC)
        out = []
        for c in clients[:500]:
            if c.get("name") == "dbdeck" and c.get("cmd") == "client|list":
                continue
            out.append(
                SessionInfo(
                    id=str(c.get("id", "")),
                    user=str(c.get("user", "")),
                    database=str(c.get("db", "")),
                    state="blocked"
                    if "b" in str(c.get("flags", ""))
                    else ("idle" if c.get("cmd") == "NULL" else "active"),
                    statement=str(c.get("cmd", "")),
                    started=now - dt.timedelta(seconds=int(c.get("age", 0) or 0)),
                    client=str(c.get("addr", "")),
                    application=str(c.get("name", "")),
                )
            )
        return out

    def terminate_session(self, session_id: str) -> None:
        if not session_id.isdigit():
            raise EngineError("A Redis client id is a number.", kind="config")
        killed = self._call("CLIENT", "KILL", "ID", session_id)
        if not killed:
            raise EngineError(f"Client {session_id} is gone.", kind="database")
