"""Collector ticks against the real PostgreSQL: differences, no resets, reset detection, lease, back-off."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from connections.models import Connection
from monitoring import collect as collecting
from monitoring.collect import claim, collect, collector_for
from monitoring.models import OTHER, Collector, Fingerprint, HealthSample, StatementSample
from monitoring.tasks import tick
from tests.monitoring.conftest import pg_connect
from tests.services import Servers

MARKER = "SELECT count(*) FROM generate_series(1, %s) AS mon_marker"


def marker_calls(conn: Any) -> tuple[int, Any]:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT coalesce(sum(calls), 0), (SELECT stats_reset FROM pg_stat_statements_info)"
            " FROM pg_stat_statements WHERE query LIKE '%%mon_marker%%'"
        )
        return cur.fetchone()


def run_marker(conn: Any, times: int) -> None:
    with conn.cursor() as cur:
        for i in range(times):
            cur.execute(MARKER, [i + 1])


def test_a_second_tick_stores_the_difference_of_the_counters(acme_pg: Connection, servers: Servers) -> None:
    conn = pg_connect(servers)
    assert collect(acme_pg.pk).status == "ok"  # baseline: nothing counted
    assert not StatementSample.objects.filter(connection=acme_pg).exists()
    run_marker(conn, 7)
    outcome = collect(acme_pg.pk)
    assert outcome.status == "ok"
    fp = Fingerprint.objects.get(connection=acme_pg, text__contains="mon_marker")
    assert "$1" in fp.text
    assert sum(s.calls for s in StatementSample.objects.filter(fingerprint=fp)) == 7
    health = HealthSample.objects.filter(connection=acme_pg).latest("bucket")
    assert health.counters["commits"] > 0 and "cache_hit_pct" in health.gauges
    conn.close()


def test_after_100_ticks_counters_were_never_reset_and_another_reader_sees_them_grow(
    acme_pg: Connection, servers: Servers
) -> None:
    reader, load = pg_connect(servers), pg_connect(servers)
    calls, reset = marker_calls(reader)
    seen = [calls]
    for _ in range(100):
        run_marker(load, 1)
        assert collect(acme_pg.pk).status == "ok"
        now_calls, now_reset = marker_calls(reader)
        assert now_reset == reset
        seen.append(now_calls)
    assert all(b > a for a, b in zip(seen, seen[1:], strict=False))
    assert seen[-1] - seen[0] == 100
    collector = Collector.objects.get(connection=acme_pg)
    assert collector.ticks == 100 and collector.resets_seen == 0
    fp = Fingerprint.objects.get(connection=acme_pg, text__contains="mon_marker")
    assert sum(StatementSample.objects.filter(fingerprint=fp).values_list("calls", flat=True)) == 99
    reader.close()
    load.close()


def test_the_collector_adds_at_most_a_handful_of_statements_to_the_server_per_tick(
    acme_pg: Connection, servers: Servers
) -> None:
    reader = pg_connect(servers)

    def entries() -> int:
        with reader.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_stat_statements")
            return cur.fetchone()[0]

    collect(acme_pg.pk)
    collect(acme_pg.pk)
    before = entries()
    for _ in range(5):
        collect(acme_pg.pk)
    assert entries() - before <= 3
    reader.close()


def test_a_reset_by_someone_else_is_detected_and_counted_from_zero(acme_pg: Connection, servers: Servers) -> None:
    conn = pg_connect(servers)
    collect(acme_pg.pk)
    run_marker(conn, 3)
    with conn.cursor() as cur:
        cur.execute("SELECT pg_stat_statements_reset()")  # another tool, not dbdeck
    run_marker(conn, 2)
    collect(acme_pg.pk)
    collector = Collector.objects.get(connection=acme_pg)
    assert collector.resets_seen == 1
    fp = Fingerprint.objects.get(connection=acme_pg, text__contains="mon_marker")
    assert sum(StatementSample.objects.filter(fingerprint=fp).values_list("calls", flat=True)) == 2
    conn.close()


def test_counters_going_down_for_one_statement_count_as_its_restart(acme_pg: Connection) -> None:
    from connections.engines.results import QueryStat
    from monitoring.deltas import statement_deltas

    before = {"a": [10.0, 100.0, 5.0, 0.0, 0.0], "b": [4.0, 8.0, 1.0, 0.0, 0.0]}
    now = [QueryStat("a", "", 3, 30.0), QueryStat("b", "", 6, 12.0)]
    deltas, _, went_down = statement_deltas(before, now, baseline=False, reset=False)
    assert went_down
    assert {d.key: d.calls for d in deltas} == {"a": 3, "b": 2}


def test_only_the_top_statements_are_kept_per_bucket_and_the_rest_is_one_row(
    acme_pg: Connection, servers: Servers, settings: Any
) -> None:
    settings.MONITORING_TOP_STATEMENTS = 3
    conn = pg_connect(servers)
    collect(acme_pg.pk)
    with conn.cursor() as cur:
        for i in range(8):  # eight shapes (one to eight columns): pg_stat_statements keys statements by shape
            cur.execute("SELECT " + ", ".join(f"{j} AS mon_top_{j}" for j in range(i + 1)))
    collect(acme_pg.pk)
    rows = StatementSample.objects.filter(connection=acme_pg)
    assert rows.exclude(fingerprint__key=OTHER).count() == 3
    assert rows.filter(fingerprint__key=OTHER).count() == 1
    conn.close()


def test_two_collectors_claiming_one_connection_only_one_wins_until_the_lease_expires(acme_pg: Connection) -> None:
    collector = collector_for(acme_pg)
    now = timezone.now()
    assert claim(collector.pk, "worker-1", now) is True
    assert claim(collector.pk, "worker-2", now) is False
    assert collect(acme_pg.pk).status == "busy"
    assert Collector.objects.get(pk=collector.pk).lease_owner == "worker-1"
    later = now + dt.timedelta(seconds=collecting.settings.MONITORING_LEASE_S + 1)
    assert claim(collector.pk, "worker-2", later) is True  # a worker that died does not hold it forever


def test_a_failing_collector_backs_off_and_the_others_still_collect(
    acme_pg: Connection, people: Any, closed_port: int, django_capture_on_commit_callbacks: Any
) -> None:
    broken = Connection.objects.create(
        team=people.acme,
        name="down",
        engine="postgresql",
        host="127.0.0.1",
        port=closed_port,
        username="x",
        options={"tls_mode": "disable", "connect_timeout": 1},
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert tick() == 2
    failing = Collector.objects.get(connection=broken)
    assert failing.failure and "Could not reach" in failing.failure
    assert failing.next_run_at > timezone.now() + dt.timedelta(seconds=100)
    assert Collector.objects.get(connection=acme_pg).failure == ""
    assert Collector.objects.get(connection=acme_pg).ticks == 1
    Collector.objects.filter(connection=acme_pg).update(next_run_at=None)
    with django_capture_on_commit_callbacks(execute=True):
        assert tick() == 1  # the broken one is not due yet
    collect(broken.pk)
    assert Collector.objects.get(connection=broken).failures == 2
    assert Collector.objects.get(connection=broken).next_run_at > timezone.now() + dt.timedelta(seconds=200)


def test_bucket_of_truncates_to_the_minute_and_hour() -> None:
    moment = dt.datetime(2026, 3, 1, 10, 17, 42, tzinfo=dt.UTC)
    assert collecting.bucket_of(moment) == dt.datetime(2026, 3, 1, 10, 17, tzinfo=dt.UTC)
    assert collecting.bucket_of(moment, 3600) == dt.datetime(2026, 3, 1, 10, tzinfo=dt.UTC)
