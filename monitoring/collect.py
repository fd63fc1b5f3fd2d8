"""One collector tick for one connection: lease, snapshot, differences, storage, failure and back-off.

A connection is collected by one worker at a time: the tick claims its Collector row with a
conditional UPDATE (lease free or expired) and gives it back when done. A failing engine
marks the collector "not collecting" with the reason and pushes its next run out
(interval x 2^failures, at most MONITORING_MAX_BACKOFF_S); other connections never wait on it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from connections.engines import EngineError
from connections.engines.capabilities import Monitor
from connections.engines.results import Snapshot
from connections.models import Connection
from monitoring import selflog
from monitoring.deltas import increment_deltas, metric_deltas, pack, statement_deltas, top_with_rest, unpack
from monitoring.models import OTHER, Collector, Fingerprint, HealthSample, Resolution, StatementSample

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    status: str  # "ok", "busy", "failed", "absent"
    message: str = ""
    snapshot_ms: float = 0.0
    total_ms: float = 0.0
    statements: int = 0
    server_queries: int = 0


def collector_for(connection: Connection) -> Collector:
    found = Collector.objects.filter(connection=connection).defer("previous").first()
    if found is None:
        Collector.objects.get_or_create(connection=connection, defaults={"interval_s": settings.MONITORING_INTERVAL_S})
        found = Collector.objects.filter(connection=connection).defer("previous").first()
    return found


def claim(collector_id: int, owner: str, now: dt.datetime) -> bool:
    """Take the collector's lease if it is free or expired; True for the one worker that got it."""
    until = now + dt.timedelta(seconds=settings.MONITORING_LEASE_S)
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    return bool(Collector.objects.filter(Q(pk=collector_id) & free).update(lease_owner=owner, lease_until=until))


def release(collector_id: int, owner: str) -> None:
    Collector.objects.filter(pk=collector_id, lease_owner=owner).update(lease_owner="", lease_until=None)


def collect(connection_id: int, owner: str = "") -> Outcome:
    started = time.perf_counter()
    owner = owner or uuid.uuid4().hex
    connection = Connection.objects.get(pk=connection_id)
    collector = collector_for(connection)
    now = timezone.now()
    if not claim(collector.pk, owner, now):
        return Outcome("busy", "Another worker is collecting this connection.")
    collector.refresh_from_db()  # what the previous holder of the lease wrote
    try:
        monitor_started = time.perf_counter()
        try:
            previous = unpack(collector.previous)
            snap = _snapshot(connection, collector, previous)
        except EngineError as exc:
            _failed(collector, exc.message, now)
            return Outcome("failed", exc.message)
        except Exception as exc:  # a collector must never take the worker (or the others) down
            log.exception("collector of connection %s failed", connection_id)
            message = f"The collector failed unexpectedly ({exc.__class__.__name__}); see the worker log."
            _failed(collector, message, now)
            return Outcome("failed", message)
        if snap is None:
            Collector.objects.filter(pk=collector.pk).update(enabled=False, failure="")
            return Outcome("absent", f"{connection.adapter_cls.display_name} has no monitoring.")
        snapshot_ms = (time.perf_counter() - monitor_started) * 1000
        stored = store(collector, snap, now, previous)
        total_ms = (time.perf_counter() - started) * 1000
        Collector.objects.filter(pk=collector.pk).update(last_tick_ms=total_ms)
        return Outcome("ok", "", snapshot_ms, total_ms, stored, snap.queries)
    finally:
        release(collector.pk, owner)


def _snapshot(connection: Connection, collector: Collector, previous: dict[str, list[float]]) -> Snapshot | None:
    params = connection.params()
    params = dataclasses.replace(
        params,
        statement_timeout=min(params.statement_timeout, settings.MONITORING_STATEMENT_TIMEOUT),
        connect_timeout=min(params.connect_timeout, settings.MONITORING_STATEMENT_TIMEOUT),
    )
    with connection.adapter_cls(params) as adapter:
        monitor = adapter.get(Monitor)
        if monitor is None:
            return None
        return monitor.snapshot(collector.position or None, known=frozenset(previous))


def _failed(collector: Collector, message: str, now: dt.datetime) -> None:
    failures = collector.failures + 1
    backoff = min(collector.interval_s * 2**failures, settings.MONITORING_MAX_BACKOFF_S)
    Collector.objects.filter(pk=collector.pk).update(
        failures=failures,
        failure=message[:500],
        last_run_at=now,
        next_run_at=now + dt.timedelta(seconds=backoff),
    )


def bucket_of(moment: dt.datetime, resolution: int = Resolution.MINUTE) -> dt.datetime:
    seconds = int(moment.timestamp()) // resolution * resolution
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)


def _hit_pct(counters: dict[str, float]) -> float | None:
    for hit, miss in (("blocks_hit", "blocks_read"), ("keyspace_hits", "keyspace_misses")):
        if hit in counters and miss in counters and counters[hit] + counters[miss] > 0:
            return 100.0 * counters[hit] / (counters[hit] + counters[miss])
    return None


@transaction.atomic
def store(collector: Collector, snap: Snapshot, now: dt.datetime, previous: dict[str, list[float]]) -> int:
    """Write one tick: fingerprints new to us, the bucket's top statements and the rest, the health row."""
    # The lease makes this worker the only writer of the collector row: no row lock needed.
    connection_id = collector.connection_id
    baseline = collector.previous_at is None
    reset = bool(snap.stats_reset and collector.stats_reset and snap.stats_reset != collector.stats_reset)
    deltas, current, went_down = statement_deltas(previous, snap.statements, baseline=baseline, reset=reset)
    deltas += increment_deltas(snap.increments) + increment_deltas(selflog.drain(connection_id))
    new_texts = [s for s in snap.statements if s.fingerprint not in previous and s.text]
    new_texts += [s for s in snap.increments if s.text]
    Fingerprint.objects.bulk_create(
        [
            Fingerprint(connection_id=connection_id, key=s.fingerprint[:200], text=s.text, database=s.database)
            for s in new_texts
        ]
        + [
            Fingerprint(connection_id=connection_id, key=d.key[:200], text=d.text, database=d.database)
            for d in deltas
            if d.text
        ],
        ignore_conflicts=True,
        batch_size=500,
    )
    top, other = top_with_rest(deltas, settings.MONITORING_TOP_STATEMENTS)
    bucket = bucket_of(snap.taken_at)
    keys = [d.key[:200] for d in top] + ([OTHER] if other else [])
    ids = dict(Fingerprint.objects.filter(connection_id=connection_id, key__in=keys).values_list("key", "id"))
    if other and OTHER not in ids:
        ids[OTHER] = Fingerprint.objects.get_or_create(connection_id=connection_id, key=OTHER)[0].pk
    missing = [d for d in top if d.key[:200] not in ids]
    for d in missing:  # a statement whose text the engine no longer had: stored with an empty text
        ids[d.key[:200]] = Fingerprint.objects.get_or_create(connection_id=connection_id, key=d.key[:200])[0].pk
    rows = [
        StatementSample(
            connection_id=connection_id,
            fingerprint_id=ids[OTHER if d is other else d.key[:200]],
            bucket=bucket,
            ts=int(bucket.timestamp()),
            calls=d.calls,
            total_ms=d.total_ms,
            rows=d.rows,
            max_ms=d.max_ms,
            blocks_hit=d.blocks_hit,
            blocks_read=d.blocks_read,
        )
        for d in [*top, *([other] if other else [])]
    ]
    StatementSample.objects.bulk_create(rows)
    gauges, counters, keep = metric_deltas(collector.previous_metrics, snap.metrics, baseline=baseline)
    if not baseline or deltas:
        counters["statement_calls"] = float(sum(d.calls for d in deltas))
        counters["statement_ms"] = float(sum(d.total_ms for d in deltas))
    hit = _hit_pct(counters)
    if hit is not None:
        gauges["cache_hit_pct"] = hit
    seconds = (snap.taken_at - collector.previous_at).total_seconds() if collector.previous_at else 0.0
    # Per-table figures stay in `latest` (the cards); the history keeps the server-wide ones.
    sampled = {k: v for k, v in gauges.items() if "table=" not in k}
    if sampled or counters:
        _health(connection_id, bucket, sampled, counters, seconds)
    latest = {"gauges": gauges, "notices": snap.notices, "at": snap.taken_at.isoformat()}
    Collector.objects.filter(pk=collector.pk).update(
        previous=pack(current) if snap.statements or not previous else collector.previous,
        previous_metrics=keep,
        previous_at=snap.taken_at,
        position=snap.position or "",
        stats_reset=snap.stats_reset,
        latest=latest,
        resets_seen=F("resets_seen") + (1 if reset or went_down else 0),
        ticks=F("ticks") + 1,
        failures=0,
        failure="",
        last_run_at=now,
        last_ok_at=now,
        last_server_queries=snap.queries,
        next_run_at=now + dt.timedelta(seconds=collector.interval_s),
    )
    return len(rows)


def _health(connection_id: int, bucket: dt.datetime, gauges: dict, counters: dict, seconds: float) -> None:
    row = HealthSample.objects.filter(connection_id=connection_id, resolution=Resolution.MINUTE, bucket=bucket).first()
    if row is None:
        HealthSample.objects.create(
            connection_id=connection_id,
            bucket=bucket,
            ts=int(bucket.timestamp()),
            gauges=gauges,
            counters=counters,
            seconds=seconds,
        )
        return
    # A second tick in the same minute (a short interval): gauges are the latest, counters add up.
    row.gauges.update(gauges)
    for key, value in counters.items():
        row.counters[key] = row.counters.get(key, 0.0) + value
    row.seconds += seconds
    row.save(update_fields=["gauges", "counters", "seconds"])
