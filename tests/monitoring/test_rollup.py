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
