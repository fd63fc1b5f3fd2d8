"""Minute buckets rolled up into hours once, the top statements plus the rest, and the purge."""

from __future__ import annotations

import datetime as dt
from typing import Any

from connections.models import Connection
from monitoring import rollup, selflog
from monitoring.collect import collect
from monitoring.models import OTHER, Collector, Fingerprint, HealthSample, Resolution, SelfTiming, StatementSample

HOUR = dt.datetime(2026, 3, 1, 10, tzinfo=dt.UTC)


def minutes(connection: Connection, statements: int) -> None:
    prints = [
        Fingerprint.objects.create(connection=connection, key=f"k{i}", text=f"SELECT {i}") for i in range(statements)
    ]
    for m in range(60):
        bucket = HOUR + dt.timedelta(minutes=m)
        StatementSample.objects.bulk_create(
            [
                StatementSample(connection=connection, fingerprint=fp, bucket=bucket, calls=1, total_ms=float(i + 1))
                for i, fp in enumerate(prints)
            ]
        )
        HealthSample.objects.create(
            connection=connection, bucket=bucket, gauges={"sessions": m}, counters={"commits": 2.0}, seconds=60
        )


def test_an_hour_of_minutes_becomes_one_hourly_row_per_top_statement_and_the_rest(
    acme_sqlite: Connection, settings: Any
) -> None:
    settings.MONITORING_TOP_STATEMENTS = 3
    minutes(acme_sqlite, 5)
    collector = Collector.objects.create(connection=acme_sqlite)
    assert rollup.roll_up(collector, HOUR + dt.timedelta(hours=1, minutes=5)) == 1
    hourly = StatementSample.objects.filter(resolution=Resolution.HOUR)
    assert hourly.count() == 4
    assert {s.fingerprint.key: s.calls for s in hourly} == {"k4": 60, "k3": 60, "k2": 60, OTHER: 120}
    health = HealthSample.objects.get(resolution=Resolution.HOUR)
    assert health.counters["commits"] == 120 and health.gauges["sessions"] == 29.5 and health.seconds == 3600
    collector.refresh_from_db()
    assert rollup.roll_up(collector, HOUR + dt.timedelta(hours=1, minutes=30)) == 0  # never twice
    assert StatementSample.objects.filter(resolution=Resolution.HOUR).count() == 4


def test_the_purge_drops_minutes_after_48_hours_and_hours_after_90_days(acme_sqlite: Connection) -> None:
    minutes(acme_sqlite, 2)
    collector = Collector.objects.create(connection=acme_sqlite)
    rollup.roll_up(collector, HOUR + dt.timedelta(hours=2))
    rollup.purge(HOUR + dt.timedelta(hours=50))
    assert not StatementSample.objects.filter(resolution=Resolution.MINUTE).exists()
    assert StatementSample.objects.filter(resolution=Resolution.HOUR).count() == 2
    rollup.purge(HOUR + dt.timedelta(days=91))
    assert not StatementSample.objects.exists() and not HealthSample.objects.exists()


def test_sqlite_statements_dbdeck_ran_become_its_slow_query_history(acme_sqlite: Connection) -> None:
    collect(acme_sqlite.pk)
    selflog.record(acme_sqlite.pk, "/* dbdeck */ SELECT * FROM t WHERE name = 'o''brien' AND id IN (1, 2, 3)", 4.0)
    selflog.record(acme_sqlite.pk, "SELECT * FROM t WHERE name = 'x' AND id IN (7)", 2.0)
    collect(acme_sqlite.pk)
    fp = Fingerprint.objects.get(connection=acme_sqlite, key__startswith="self:")
    assert fp.text == "SELECT * FROM t WHERE name = ? AND id IN (?, ...)"
    assert (
        sum(StatementSample.objects.filter(fingerprint__key__startswith="self:").values_list("calls", flat=True)) == 2
    )
    assert not SelfTiming.objects.exists()


def test_timings_of_a_connection_deleted_before_the_flush_are_dropped_and_the_rest_kept(
    acme_sqlite: Connection,
) -> None:
    gone = Connection.objects.create(team=acme_sqlite.team, name="gone", engine="sqlite", database=":memory:")
    selflog.record(gone.pk, "SELECT 1", 1.0)
    selflog.record(acme_sqlite.pk, "SELECT 2", 3.0)
    gone.delete()
    selflog.flush()
    assert list(SelfTiming.objects.values_list("connection_id", "calls", "total_ms")) == [(acme_sqlite.pk, 1, 3.0)]


def test_a_grid_page_on_sqlite_shows_up_in_its_slow_queries(acme_sqlite: Connection, people: Any) -> None:
    from django.urls import reverse

    from tests.fixtures import client_for

    collect(acme_sqlite.pk)
    response = client_for(people.carol).get(
        reverse("explorer:browse", args=[acme_sqlite.pk]), {"ns": "main", "obj": "t"}
    )
    assert response.status_code == 200
    collect(acme_sqlite.pk)
    fp = Fingerprint.objects.get(connection=acme_sqlite, key__startswith="self:")
    assert fp.text == 'SELECT … FROM "main"."t" LIMIT ? /* grid page */'


def test_a_days_slow_queries_read_rolled_hours_and_the_current_hours_minutes_once(acme_sqlite: Connection) -> None:
    from django.utils import timezone

    from monitoring import series
    from monitoring.collect import bucket_of

    now = timezone.now()
    fp = Fingerprint.objects.create(connection=acme_sqlite, key="k", text="SELECT 1")
    earlier = bucket_of(now - dt.timedelta(hours=3), Resolution.HOUR)
    current = bucket_of(now, Resolution.HOUR)
    for bucket in [earlier + dt.timedelta(minutes=m) for m in range(60)] + [current]:
        StatementSample.objects.create(
            connection=acme_sqlite, fingerprint=fp, bucket=bucket, ts=int(bucket.timestamp()), calls=1, total_ms=2.0
        )
    collector = Collector.objects.create(connection=acme_sqlite)
    rollup.roll_up(collector, now)
    collector.refresh_from_db()
    assert collector.rolled_until == current
    rows, overall = series.slow_queries(
        acme_sqlite.pk, series.parse_range({"range": "24h"}), rolled_until=collector.rolled_until
    )
    assert [(r.calls, r.total_ms) for r in rows] == [(61, 122.0)] and overall == 122.0
    assert sum(rows[0].spark) == 122.0


def test_a_months_slow_queries_read_whole_days_from_daily_rows_and_count_every_hour_once(
    acme_sqlite: Connection,
) -> None:
    from django.utils import timezone

    from monitoring import series
    from monitoring.collect import bucket_of

    now = timezone.now()
    fp = Fingerprint.objects.create(connection=acme_sqlite, key="k", text="SELECT 1")
    current = bucket_of(now, Resolution.HOUR)
    hours = [current - dt.timedelta(hours=h) for h in range(1, 5 * 24)]
    StatementSample.objects.bulk_create(
        StatementSample(
            connection=acme_sqlite,
            fingerprint=fp,
            resolution=Resolution.HOUR,
            bucket=b,
            ts=int(b.timestamp()),
            calls=1,
            total_ms=1.0,
        )
        for b in hours
    )
    collector = Collector.objects.create(connection=acme_sqlite, rolled_until=current)
    assert rollup.roll_days(collector, now) >= 4
    collector.refresh_from_db()
    assert StatementSample.objects.filter(resolution=Resolution.DAY).exists()
    rng = series.parse_range({"range": "7d"})
    read = series.tiers(rng, collector.rolled_until, collector.days_rolled_until)
    assert Resolution.DAY in [r for r, _, _ in read]
    rows, _ = series.slow_queries(
        acme_sqlite.pk, rng, rolled_until=collector.rolled_until, days_until=collector.days_rolled_until
    )
    assert rows[0].calls == len(hours)
