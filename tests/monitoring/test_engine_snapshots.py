"""Every engine's Monitor against its real server: counters, health figures, sessions, nothing reset."""

from __future__ import annotations

import time
from typing import Any

import pymysql
import redis
from pymongo import MongoClient

from connections.engines.capabilities import Monitor
from tests.monitoring.conftest import pg_connect
from tests.services import Servers


def monitor_of(servers: Servers, engine: str) -> Any:
    from connections.engines import adapter_class

    server = getattr(servers, engine)
    adapter = adapter_class(engine)(server.params())
    return adapter, adapter.get(Monitor)


def test_postgresql_snapshot_reads_pg_stat_statements_counters_and_health(servers: Servers) -> None:
    conn = pg_connect(servers)
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS mon_snap (id int PRIMARY KEY, v text)")
        for i in range(5):
            cur.execute("SELECT count(*) FROM mon_snap WHERE v = %s", [f"x{i}"])
    adapter, monitor = monitor_of(servers, "postgresql")
    with adapter:
        snap = monitor.snapshot()
    texts = [s.text for s in snap.statements if "mon_snap WHERE v" in s.text]
    assert texts and "$1" in texts[0]
    stat = next(s for s in snap.statements if "mon_snap WHERE v" in s.text)
    assert stat.calls >= 5 and stat.total_ms > 0 and stat.database == servers.postgresql.database
    names = {m.name for m in snap.metrics}
    for name in ("commits", "blocks_hit", "deadlocks", "sessions", "blocked_sessions", "xid_age", "database_bytes"):
        assert name in names, name
    assert snap.stats_reset is not None
    conn.close()


def test_postgresql_snapshot_leaves_out_texts_the_caller_already_has(servers: Servers) -> None:
    adapter, monitor = monitor_of(servers, "postgresql")
    with adapter:
        first = monitor.snapshot()
        known = frozenset(s.fingerprint for s in first.statements)
        second = monitor.snapshot(known=known)
    assert all(s.text == "" for s in second.statements if s.fingerprint in known)


def test_postgresql_sessions_show_a_blocked_session_and_its_blocker(servers: Servers) -> None:
    blocker, waiter = pg_connect(servers), pg_connect(servers)
    with blocker.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS mon_lock (id int PRIMARY KEY)")
        cur.execute("INSERT INTO mon_lock VALUES (1) ON CONFLICT DO NOTHING")
    blocker.autocommit = False
    waiter.autocommit = True
    with blocker.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        blocker_pid = str(cur.fetchone()[0])
        cur.execute("LOCK TABLE mon_lock IN ACCESS EXCLUSIVE MODE")
    import threading

    def wait() -> None:
        with waiter.cursor() as cur:
            cur.execute("SET statement_timeout = '5s'")
            try:
                cur.execute("SELECT * FROM mon_lock")
            except Exception:  # noqa: BLE001, S110 - cancelled by the test below
                pass

    thread = threading.Thread(target=wait)
    thread.start()
    time.sleep(0.5)
    adapter, monitor = monitor_of(servers, "postgresql")
    with adapter:
        sessions = monitor.sessions()
        snap = monitor.snapshot()
        blocked = [s for s in sessions if blocker_pid in s.blocked_by]
        assert blocked and "mon_lock" in blocked[0].statement
        assert next(m.value for m in snap.metrics if m.name == "blocked_sessions") >= 1
        assert next(m.value for m in snap.metrics if m.name == "longest_transaction_s") > 0
        monitor.cancel_session(blocked[0].id)
    thread.join(timeout=10)
    blocker.rollback()
    blocker.close()
    waiter.close()


def test_mariadb_snapshot_reads_statement_digests_and_global_status(servers: Servers) -> None:
    my = servers.mysql
    db = pymysql.connect(host=my.host, port=my.port, user=my.username, password=my.password, database=my.database)
    with db.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS mon_snap (id int PRIMARY KEY, v varchar(20))")
        for i in range(4):
            cur.execute("SELECT count(*) FROM mon_snap WHERE v = %s", [f"x{i}"])
    adapter, monitor = monitor_of(servers, "mysql")
    with adapter:
        snap = monitor.snapshot()
        sessions = monitor.sessions()
    assert not snap.notices, snap.notices
    stat = next(s for s in snap.statements if "mon_snap" in s.text and "count" in s.text.lower())
    assert stat.calls >= 4 and "?" in stat.text
    names = {m.name for m in snap.metrics}
    for name in ("queries", "threads_running", "slow_queries", "blocks_hit", "row_lock_waits", "database_bytes"):
        assert name in names, name
    assert any(s.database == my.database for s in sessions)
    db.close()


def test_redis_snapshot_reads_commandstats_and_the_slowlog_after_its_position(servers: Servers) -> None:
    r = servers.redis
    client = redis.Redis(host=r.host, port=r.port, password=r.password)
    client.config_set("slowlog-log-slower-than", 0)
    try:
        client.set("mon:key", "v")
        client.get("mon:key")
        adapter, monitor = monitor_of(servers, "redis")
        with adapter:
            first = monitor.snapshot()
            client.hset("mon:hash", "f", "<script>")
            second = monitor.snapshot(first.position)
        assert any(s.fingerprint == "cmd:GET" and s.calls >= 1 for s in first.statements)
        assert first.increments and first.position
        assert int(second.position) > int(first.position)
        assert [s.text for s in second.increments if "HSET" in s.text] == ["SLOWLOG HSET ? ? ?"]
        assert not any("GET ?" == s.text.removeprefix("SLOWLOG ") for s in second.increments)
        assert {"keyspace_hits", "evictions", "sessions", "database_bytes"} <= {m.name for m in second.metrics}
        assert client.slowlog_len() > 0  # never reset
    finally:
        client.config_set("slowlog-log-slower-than", 10000)
        client.close()


def test_redis_slowlog_restart_is_noticed_and_read_from_the_start(servers: Servers) -> None:
    adapter, monitor = monitor_of(servers, "redis")
    with adapter:
        snap = monitor.snapshot("999999999")
    assert any("restarted" in n for n in snap.notices)


def test_mongodb_snapshot_reads_the_profiler_after_its_position_with_values_out(servers: Servers) -> None:
    m = servers.mongodb
    client = MongoClient(host=m.host, port=m.port, username=m.username, password=m.password, authSource="admin")
    adapter, monitor = monitor_of(servers, "mongodb")
    with adapter:
        assert monitor.profiling().startswith("level 0")  # nothing switched it on silently
        monitor.set_profiling(2, 0)
        try:
            client[m.database]["mon"].find_one({"name": "<script>o'brien</script>", "n": 5})
            first = monitor.snapshot()
            shapes = [s.text for s in first.increments if "dbdeck_test.mon" in s.text]
            assert shapes == ['query dbdeck_test.mon {"filter": {"n": "?", "name": "?"}}']
            client[m.database]["mon"].find_one({"other": 1})
            second = monitor.snapshot(first.position)
        finally:
            monitor.set_profiling(0, 100)
        assert not any("name" in s.text for s in second.increments)
        assert any("other" in s.text for s in second.increments)
        assert {"operations", "sessions", "database_bytes"} <= {x.name for x in first.metrics}
        assert monitor.sessions()
    client.close()


def test_sqlite_snapshot_reports_the_file(tmp_path: Any) -> None:
    import sqlite3

    from connections.engines import adapter_class
    from connections.engines.base import ConnectionParams

    path = tmp_path / "m.sqlite3"
    sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.commit()
    adapter = adapter_class("sqlite")(ConnectionParams(engine="sqlite", database=str(path)))
    with adapter:
        snap = adapter.get(Monitor).snapshot()
    assert next(m.value for m in snap.metrics if m.name == "database_bytes") > 0
