"""Monitoring: one collector tick on PostgreSQL with 5,000 distinct statements, the per-connection
page over 30 days of data for 200 statements, and the storage one connection costs per day."""

from __future__ import annotations

import datetime as dt
import random
import statistics
import time
from typing import Any

from bench.common import LiveApp, Result, alternate

STATEMENTS = 5_000
PAGE_STATEMENTS = 200
DAYS = 30


def _pg(server: Any) -> Any:
    import psycopg2

    db = psycopg2.connect(
        host=server.host, port=server.port, user=server.username, password=server.password, dbname=server.database
    )
    db.autocommit = True
    return db


def collector_tick(app: LiveApp, server: Any) -> list[Result]:
    from connections.engines.postgresql import monitor as pgmonitor
    from connections.engines.postgresql.adapter import PostgreSQLAdapter
    from monitoring.collect import collect

    db = _pg(server)
    with db.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_stat_statements")
        have = cur.fetchone()[0]
        if have < STATEMENTS:
            # PostgreSQL's query ids ignore aliases and constants: distinct statements need distinct columns.
            columns = ", ".join(f"c{k} int" for k in range(50))
            for t in range(STATEMENTS // 50):
                cur.execute(f"CREATE TABLE IF NOT EXISTS bench_mon_{t} ({columns})")
                for k in range(50):
                    cur.execute(f"SELECT c{k} FROM bench_mon_{t} WHERE c{k} = 1")
        cur.execute("SELECT count(*) FROM pg_stat_statements")
        print(f"    pg_stat_statements holds {cur.fetchone()[0]} statements")
    conn = app.connection(server)
    collect(conn.pk)  # the baseline tick stores every text once

    # Time spent talking to the server (connect, statements, fetching), so the rest is dbdeck's own.
    spent = {"ms": 0.0}
    patched = [
        (PostgreSQLAdapter, "_execute"),
        (PostgreSQLAdapter, "_conn"),
        (pgmonitor.PostgreSQLMonitor, "_raw"),
    ]
    originals = {(cls, name): getattr(cls, name) for cls, name in patched}

    depth = {"n": 0}

    def timing(original: Any) -> Any:
        def timed(*args: Any, **kwargs: Any) -> Any:
            depth["n"] += 1  # _execute calls _conn: only the outermost call counts
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                depth["n"] -= 1
                if depth["n"] == 0:
                    spent["ms"] += (time.perf_counter() - started) * 1000

        return timed

    own: list[float] = []

    def tick() -> None:
        spent["ms"] = 0.0
        started = time.perf_counter()
        outcome = collect(conn.pk)
        total = (time.perf_counter() - started) * 1000
        assert outcome.status == "ok", outcome.message
        own.append(total - spent["ms"])

    def bare() -> None:
        with db.cursor() as cur:
            cur.execute(pgmonitor.STATEMENTS_13)
            cur.fetchall()

    for (cls, name), original in originals.items():
        setattr(cls, name, timing(original))
    try:
        times = alternate({"tick": tick, "bare": bare}, runs=9)
    finally:
        for (cls, name), original in originals.items():
            setattr(cls, name, original)
    dbdeck_ms = statistics.median(own)

    with db.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_stat_statements")
        before = cur.fetchone()[0]
        for _ in range(5):
            collect(conn.pk)
        cur.execute("SELECT count(*) FROM pg_stat_statements")
        growth = (cur.fetchone()[0] - before) / 5
    db.close()
    return [
        Result(
            "PG collector tick (5,000 statements) vs the bare snapshot query", times["tick"], times["bare"], "ms", "-"
        ),
        Result(
            "PG collector tick: dbdeck's own time vs the bare snapshot query",
            dbdeck_ms,
            times["bare"],
            "ms",
            "< 100 ms",
        ),
        Result("PG collector tick: new pg_stat_statements entries per tick vs 5", growth, 5, "n", "<= 1"),
    ]


def _fill(connection_id: int, now: dt.datetime) -> None:
    """What the collector keeps of 200 busy statements over 30 days: per hour (and per minute for the
    last 48 h) the top MONITORING_TOP_STATEMENTS of them plus the "everything else" row; which
    statements make the top changes from bucket to bucket, so all 200 appear in the range."""
    from django.conf import settings

    from monitoring.models import OTHER, Fingerprint, HealthSample, Resolution, StatementSample

    rng = random.Random(7)
    Fingerprint.objects.bulk_create(
        [
            Fingerprint(connection_id=connection_id, key=f"bench:{i}", text=f"SELECT * FROM t{i} WHERE id = $1")
            for i in range(PAGE_STATEMENTS)
        ]
        + [Fingerprint(connection_id=connection_id, key=OTHER)]
    )
    everyone = list(Fingerprint.objects.filter(connection_id=connection_id))
    other = next(fp for fp in everyone if fp.key == OTHER)
    statements = [fp for fp in everyone if fp.key != OTHER]
    top = settings.MONITORING_TOP_STATEMENTS

    def kept() -> list[Any]:
        return [*rng.sample(statements, top), other]

    hour = now.replace(minute=0, second=0, microsecond=0)
    gauges = {"sessions": 12.0, "blocked_sessions": 0.0, "cache_hit_pct": 99.1, "database_bytes": 8e9, "xid_age": 1e6}
    counters = {
        "commits": 600.0,
        "statement_calls": 6000.0,
        "statement_ms": 900.0,
        "blocks_hit": 1e5,
        "blocks_read": 50.0,
    }
    rows: list[StatementSample] = []
    for h in range(DAYS * 24):
        bucket = hour - dt.timedelta(hours=h)
        rows.extend(
            StatementSample(
                connection_id=connection_id,
                fingerprint=fp,
                resolution=Resolution.HOUR,
                bucket=bucket,
                ts=int(bucket.timestamp()),
                calls=rng.randint(1, 500),
                total_ms=rng.random() * 1000,
                rows=rng.randint(0, 5000),
                max_ms=rng.random() * 50,
            )
            for fp in kept()
        )
        if len(rows) > 20000:
            StatementSample.objects.bulk_create(rows, batch_size=2000)
            rows = []
    minute = now.replace(second=0, microsecond=0)
    for m in range(48 * 60):
        bucket = minute - dt.timedelta(minutes=m)
        rows.extend(
            StatementSample(
                connection_id=connection_id,
                fingerprint=fp,
                bucket=bucket,
                ts=int(bucket.timestamp()),
                calls=rng.randint(1, 50),
                total_ms=rng.random() * 30,
            )
            for fp in kept()
        )
        if len(rows) > 20000:
            StatementSample.objects.bulk_create(rows, batch_size=2000)
            rows = []
    StatementSample.objects.bulk_create(rows, batch_size=2000)
    health = [
        HealthSample(
            connection_id=connection_id,
            resolution=Resolution.HOUR,
            bucket=hour - dt.timedelta(hours=h),
            ts=int((hour - dt.timedelta(hours=h)).timestamp()),
            gauges=gauges,
            counters=counters,
            seconds=3600,
        )
        for h in range(DAYS * 24)
    ] + [
        HealthSample(
            connection_id=connection_id,
            bucket=minute - dt.timedelta(minutes=m),
            ts=int((minute - dt.timedelta(minutes=m)).timestamp()),
            gauges=gauges,
            counters=counters,
            seconds=60,
        )
        for m in range(48 * 60)
    ]
    HealthSample.objects.bulk_create(health, batch_size=2000)


def page(app: LiveApp, server: Any) -> list[Result]:
    from django.db import connection as metadata
    from django.utils import timezone

    conn = app.connection(server)
    now = timezone.now()
    started = time.monotonic()
    _fill(conn.pk, now)
    print(f"    30 days for {PAGE_STATEMENTS} statements stored in {time.monotonic() - started:.0f} s")
    since = now - dt.timedelta(days=DAYS)

    def bare() -> None:
        with metadata.cursor() as cur:
            cur.execute(
                "SELECT fingerprint_id, sum(calls), sum(total_ms) FROM monitoring_statementsample"
                " WHERE connection_id = %s AND resolution = 3600 AND bucket >= %s GROUP BY fingerprint_id",
                [conn.pk, since],
            )
            cur.fetchall()

    path = f"/monitoring/{conn.pk}/"
    times = alternate(
        {
            "30d": lambda: app.get(path + "?range=30d"),
            "24h": lambda: app.get(path + "?range=24h"),
            "bare": bare,
        },
        runs=9,
    )
    return [
        Result(
            "Monitoring page, 30 days x 200 statements vs bare aggregate", times["30d"], times["bare"], "ms", "< 300 ms"
        ),
        Result(
            "Monitoring page, 24 h (minutes) vs bare 30-day aggregate", times["24h"], times["bare"], "ms", "< 300 ms"
        ),
    ]


def storage(app: LiveApp, server: Any) -> list[Result]:
    """What one connection's day costs in the metadata database: 1,440 ticks of top 50 + rest, rolled up."""
    from django.db import connection as metadata
    from django.utils import timezone

    from monitoring.models import OTHER, Fingerprint, HealthSample, Resolution, StatementSample

    def used() -> int:
        with metadata.cursor() as cur:
            cur.execute("PRAGMA page_count")
            pages = cur.fetchone()[0]
            cur.execute("PRAGMA freelist_count")
            free = cur.fetchone()[0]
            cur.execute("PRAGMA page_size")
            return (pages - free) * cur.fetchone()[0]

    conn = app.connection(server)
    prints = Fingerprint.objects.bulk_create(
        [
            Fingerprint(connection_id=conn.pk, key=f"s:{i}", text=f"SELECT * FROM orders WHERE id = $1 /* {i} */")
            for i in range(80)
        ]
        + [Fingerprint(connection_id=conn.pk, key=OTHER)]
    )
    prints = list(Fingerprint.objects.filter(connection_id=conn.pk))
    before = used()
    start = timezone.now().replace(second=0, microsecond=0) - dt.timedelta(days=3)
    gauges = {
        "sessions": 12.0,
        "blocked_sessions": 0.0,
        "longest_transaction_s": 3.2,
        "idle_in_transaction_s": 0.0,
        "cache_hit_pct": 99.1,
        "database_bytes": 8e9,
        "xid_age": 1e6,
        "sessions_by_state{state=active}": 3.0,
        "sessions_by_state{state=idle}": 9.0,
        "replication_lag_s{standby=replica@10.0.0.2}": 0.1,
    }
    counters = {
        k: 1234.5
        for k in (
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
            "statement_calls",
            "statement_ms",
        )
    }
    for m in range(1440):
        bucket = start + dt.timedelta(minutes=m)
        StatementSample.objects.bulk_create(
            [
                StatementSample(
                    connection_id=conn.pk,
                    fingerprint=fp,
                    bucket=bucket,
                    ts=int(bucket.timestamp()),
                    calls=17,
                    total_ms=12.5,
                    rows=40,
                    max_ms=3.1,
                    blocks_hit=900,
                    blocks_read=2,
                )
                for fp in prints[:51]
            ]
        )
        HealthSample.objects.create(
            connection_id=conn.pk,
            bucket=bucket,
            ts=int(bucket.timestamp()),
            gauges=gauges,
            counters=counters,
            seconds=60,
        )
    minutes_bytes = used() - before
    for h in range(24):
        bucket = start + dt.timedelta(hours=h)
        StatementSample.objects.bulk_create(
            [
                StatementSample(
                    connection_id=conn.pk,
                    fingerprint=fp,
                    resolution=Resolution.HOUR,
                    bucket=bucket,
                    ts=int(bucket.timestamp()),
                    calls=1000,
                    total_ms=750.0,
                    rows=2400,
                    max_ms=3.1,
                )
                for fp in prints[:51]
            ]
        )
        HealthSample.objects.create(
            connection_id=conn.pk,
            resolution=Resolution.HOUR,
            bucket=bucket,
            ts=int(bucket.timestamp()),
            gauges=gauges,
            counters=counters,
            seconds=3600,
        )
    hours_bytes = used() - before - minutes_bytes
    kept = 2 * minutes_bytes + 90 * hours_bytes  # 48 h of minutes and 90 days of hours at the defaults
    print(
        f"    one day: minutes {minutes_bytes / 1e6:.1f} MB, hours {hours_bytes / 1e6:.2f} MB;"
        f" kept at the defaults {kept / 1e6:.0f} MB"
    )
    return [
        Result("Monitoring storage per connection per day (minutes, MB) vs 1 MB", minutes_bytes / 1e6, 1.0, "MB", "-"),
        Result(
            "Monitoring storage per connection per day (hourly rollup, MB) vs 1 MB", hours_bytes / 1e6, 1.0, "MB", "-"
        ),
        Result("Monitoring storage per connection at default retention (MB) vs 1 MB", kept / 1e6, 1.0, "MB", "-"),
    ]


def run(app: LiveApp, server: Any) -> list[Result]:
    return [*collector_tick(app, server), *page(app, server), *storage(app, server)]
