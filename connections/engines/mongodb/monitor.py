"""MongoDB monitoring: the profiler's system.profile read after `position`, serverStatus, currentOp.

The profiling level is never changed by a snapshot: `set_profiling` is the explicit admin
action. Servers that implement a subset of the commands (SecantusDB) give what they have;
each missing piece becomes a notice that says what is absent.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from connections.engines.base import EngineError
from connections.engines.capabilities import Monitor
from connections.engines.results import Metric, QueryStat, SessionInfo, Snapshot

PROFILE_READ = 1000


def query_shape(value: Any) -> Any:
    """A filter with its values out: keys and operators stay, every value becomes "?"."""
    if isinstance(value, dict):
        return {str(k): query_shape(v) for k, v in sorted(value.items()) if not str(k).startswith("$db")}
    if isinstance(value, list):
        return [query_shape(v) for v in value[:1]] if value and isinstance(value[0], dict) else "?"
    return "?"


def normalize(entry: dict[str, Any]) -> str:
    op = str(entry.get("op", "?"))
    ns = str(entry.get("ns", ""))
    command = entry.get("command") or entry.get("query") or {}
    body: dict[str, Any] = {}
    if isinstance(command, dict):
        for key in ("filter", "q", "pipeline", "query", "sort", "update", "u"):
            if key in command:
                body[key] = query_shape(command[key])
        if not body:
            body = {k: "?" for k in list(command)[:1]}
    return f"{op} {ns} {json.dumps(body, sort_keys=True, default=str)}"


class MongoDBMonitor(Monitor):
    statement_source = "the profiler (system.profile)"
    queries = 0

    def _command(self, db: str, *args: Any, **kwargs: Any) -> Any:
        self.queries += 1
        client = self.adapter._mongo()  # type: ignore[attr-defined]
        return self.adapter._call(client[db].command, *args, maxTimeMS=self.adapter._max_ms, **kwargs)  # type: ignore[attr-defined]

    @property
    def _database(self) -> str:
        return self.adapter.params.database or "admin"

    def snapshot(self, position: str | None = None, known: frozenset[str] = frozenset()) -> Snapshot:
        self.queries = 0
        snap = Snapshot(taken_at=dt.datetime.now(dt.UTC))
        self._server_status(snap)
        snap.position = self._profile(snap, position)
        self._replication(snap)
        self._size(snap)
        snap.queries = self.queries
        return snap

    def _server_status(self, snap: Snapshot) -> None:
        try:
            status = self._command("admin", "serverStatus")
        except EngineError as exc:
            snap.notices.append(f"serverStatus is not available ({exc.message}): no throughput or connection figures.")
            return
        for op, count in (status.get("opcounters") or {}).items():
            snap.metrics.append(Metric("operations", float(count), counter=True, labels={"op": str(op)}))
        if "opcounters" not in status:
            snap.notices.append("This server's serverStatus has no opcounters, so throughput is not charted.")
        connections = status.get("connections") or {}
        if "current" in connections:
            snap.metrics.append(Metric("sessions", float(connections["current"])))
        else:
            snap.notices.append("This server's serverStatus has no connection counts.")
        if "uptime" in status:
            snap.metrics.append(Metric("uptime_s", float(status["uptime"])))

    def _profile(self, snap: Snapshot, position: str | None) -> str | None:
        since = dt.datetime.fromisoformat(position) if position else None
        client = self.adapter._mongo()  # type: ignore[attr-defined]
        profile = client[self._database]["system.profile"]
        query: dict[str, Any] = {"ts": {"$gt": since}} if since else {}
        try:
            self.queries += 1
            docs = self.adapter._call(  # type: ignore[attr-defined]
                lambda: list(profile.find(query).sort("ts", 1).limit(PROFILE_READ).max_time_ms(self.adapter._max_ms))  # type: ignore[attr-defined]
            )
        except EngineError as exc:
            snap.notices.append(f"The profiler's system.profile could not be read ({exc.message}).")
            return position
        if not docs and since is None:
            snap.notices.append(
                f"The profiler has recorded nothing in {self._database!r}: an admin can turn it on from the "
                "monitoring page (profiling level 1 records operations slower than slowms)."
            )
        grouped: dict[str, list[dict[str, Any]]] = {}
        newest = since
        for doc in docs:
            grouped.setdefault(normalize(doc), []).append(doc)
            ts = doc.get("ts")
            if isinstance(ts, dt.datetime) and (newest is None or ts > newest):
                newest = ts
        for text, entries in grouped.items():
            millis = [float(e.get("millis", 0) or 0) for e in entries]
            snap.increments.append(
                QueryStat(
                    fingerprint="profile:" + hashlib.sha1(text.encode()).hexdigest()[:16],  # noqa: S324 - a name
                    text=text,
                    calls=len(entries),
                    total_ms=sum(millis),
                    rows=sum(int(e.get("nreturned", 0) or 0) for e in entries),
                    database=self._database,
                    extra={
                        "docs_examined": float(sum(int(e.get("docsExamined", 0) or 0) for e in entries)),
                        "max_ms": max(millis),
                    },
                )
            )
        return newest.isoformat() if newest else None

    def _replication(self, snap: Snapshot) -> None:
        try:
            status = self._command("admin", "replSetGetStatus")
        except EngineError:
            return  # not a replica set member (or the server has no replication): no lag to report
        members = status.get("members") or []
        primary = next((m for m in members if m.get("stateStr") == "PRIMARY"), None)
        if primary is None or not isinstance(primary.get("optimeDate"), dt.datetime):
            return
        for member in members:
            if member is primary or not isinstance(member.get("optimeDate"), dt.datetime):
                continue
            lag = (primary["optimeDate"] - member["optimeDate"]).total_seconds()
            snap.metrics.append(Metric("replication_lag_s", max(lag, 0.0), labels={"standby": str(member.get("name"))}))

    def _size(self, snap: Snapshot) -> None:
        try:
            stats = self._command(self._database, "dbStats")
        except EngineError as exc:
            snap.notices.append(f"dbStats is not available ({exc.message}): no size figures.")
            return
        size = stats.get("storageSize", stats.get("dataSize"))
        if size is not None:
            snap.metrics.append(Metric("database_bytes", float(size)))

    def sessions(self) -> list[SessionInfo]:
        try:
            ops = self._command("admin", "currentOp").get("inprog", [])
        except EngineError as exc:
            raise EngineError(
                f"This server does not list its operations (currentOp): {exc.message}", "config"
            ) from None
        now = dt.datetime.now(dt.UTC)
        out = []
        for op in ops[:500]:
            command = op.get("command") or {}
            out.append(
                SessionInfo(
                    id=str(op.get("opid", "")),
                    database=str(op.get("ns", "")),
                    state="active" if op.get("active") else "idle",
                    statement=json.dumps(query_shape(command), default=str)[:2000],
                    started=now - dt.timedelta(seconds=float(op.get("secs_running", 0) or 0)),
                    waiting_on="lock" if op.get("waitingForLock") else "",
                    client=str(op.get("client", "")),
                    application=str((op.get("clientMetadata") or {}).get("application", {}).get("name", "")),
                )
            )
        return out

    def terminate_session(self, session_id: str) -> None:
        if not session_id.lstrip("-").isdigit():
            raise EngineError("A MongoDB operation id is a number.", kind="config")
        self._command("admin", "killOp", op=int(session_id))

    def profiling(self) -> str:
        try:
            answer = self._command(self._database, "profile", -1)
        except EngineError as exc:
            return f"unknown ({exc.message})"
        level = int(answer.get("was", 0))
        words = {0: "off", 1: "slow operations", 2: "every operation"}.get(level, str(level))
        return f"level {level} ({words}), slowms {answer.get('slowms', '?')}"

    def set_profiling(self, level: int, slow_ms: int) -> None:
        if level not in (0, 1, 2) or not 0 <= slow_ms <= 3_600_000:
            raise EngineError("The profiling level is 0, 1 or 2 and slowms a number of milliseconds.", "config")
        self._command(self._database, "profile", level, slowms=slow_ms)
