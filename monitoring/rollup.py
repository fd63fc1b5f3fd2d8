"""Minute buckets rolled up into hours (top statements plus "everything else"), and the purge.

A collector's `rolled_until` says up to which hour its minutes have been rolled up, so a
rollup that runs twice (or late) never counts an hour twice.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Min, Sum
from django.utils import timezone

from monitoring.collect import bucket_of
from monitoring.models import OTHER, Collector, Fingerprint, HealthSample, Resolution, SelfTiming, StatementSample

HOUR = dt.timedelta(hours=1)


def roll_up_all(now: dt.datetime | None = None) -> int:
    now = now or timezone.now()
    return sum(roll_up(c, now) for c in Collector.objects.all())


def roll_up(collector: Collector, now: dt.datetime) -> int:
    """Roll every complete hour after `rolled_until`; returns the number of hours written."""
    end = bucket_of(now, Resolution.HOUR)
    minutes = StatementSample.objects.filter(connection_id=collector.connection_id, resolution=Resolution.MINUTE)
    health = HealthSample.objects.filter(connection_id=collector.connection_id, resolution=Resolution.MINUTE)
    start = collector.rolled_until
    if start is None:
        first = min(
            [d for d in (minutes.aggregate(m=Min("bucket"))["m"], health.aggregate(m=Min("bucket"))["m"]) if d],
            default=None,
        )
        if first is None:
            return 0
        start = bucket_of(first, Resolution.HOUR)
    hours = 0
    while start < end:
        with transaction.atomic():
            _roll_hour(collector.connection_id, start, minutes, health)
            Collector.objects.filter(pk=collector.pk).update(rolled_until=start + HOUR)
        start += HOUR
        hours += 1
    return hours


def _roll_hour(connection_id: int, hour: dt.datetime, minutes, health) -> None:  # noqa: ANN001
    span = {"bucket__gte": hour, "bucket__lt": hour + HOUR}
    sums = list(
        minutes.filter(**span)
        .values("fingerprint_id")
        .annotate(
            calls=Sum("calls"),
            total_ms=Sum("total_ms"),
            rows=Sum("rows"),
            max_ms=Max("max_ms"),
            hit=Sum("blocks_hit"),
            read=Sum("blocks_read"),
        )
    )
    if sums:
        other_id = Fingerprint.objects.get_or_create(connection_id=connection_id, key=OTHER)[0].pk
        sums.sort(key=lambda r: r["total_ms"] or 0, reverse=True)
        limit = settings.MONITORING_TOP_STATEMENTS
        keep = [r for r in sums[:limit] if r["fingerprint_id"] != other_id]
        rest = [r for r in sums if r not in keep]
        rows = [_sample(connection_id, hour, r["fingerprint_id"], [r]) for r in keep]
        if rest:
            rows.append(_sample(connection_id, hour, other_id, rest))
        StatementSample.objects.bulk_create(rows)
    samples = list(health.filter(**span))
    if samples:
        gauges: dict[str, list[float]] = defaultdict(list)
        counters: dict[str, float] = defaultdict(float)
        for s in samples:
            for k, v in s.gauges.items():
                gauges[k].append(v)
            for k, v in s.counters.items():
                counters[k] += v
        HealthSample.objects.update_or_create(
            connection_id=connection_id,
            resolution=Resolution.HOUR,
            bucket=hour,
            defaults={
                "ts": int(hour.timestamp()),
                "gauges": {k: sum(v) / len(v) for k, v in gauges.items()},
                "counters": dict(counters),
                "seconds": sum(s.seconds for s in samples),
            },
        )


def _sample(connection_id: int, hour: dt.datetime, fingerprint_id: int, group: list[dict]) -> StatementSample:
    return StatementSample(
        connection_id=connection_id,
        fingerprint_id=fingerprint_id,
        resolution=Resolution.HOUR,
        bucket=hour,
        ts=int(hour.timestamp()),
        calls=sum(r["calls"] or 0 for r in group),
        total_ms=sum(r["total_ms"] or 0 for r in group),
        rows=sum(r["rows"] or 0 for r in group),
        max_ms=max(r["max_ms"] or 0 for r in group),
        blocks_hit=sum(r["hit"] or 0 for r in group),
        blocks_read=sum(r["read"] or 0 for r in group),
    )


def purge(now: dt.datetime | None = None) -> dict[str, int]:
    """Drop minutes past MONITORING_MINUTE_RETENTION_H, hours past MONITORING_HOUR_RETENTION_D."""
    now = now or timezone.now()
    minute_cut = now - dt.timedelta(hours=settings.MONITORING_MINUTE_RETENTION_H)
    hour_cut = now - dt.timedelta(days=settings.MONITORING_HOUR_RETENTION_D)
    out = {}
    for name, model in (("statements", StatementSample), ("health", HealthSample)):
        old_minutes = model.objects.filter(resolution=Resolution.MINUTE, bucket__lt=minute_cut)
        old_hours = model.objects.filter(resolution=Resolution.HOUR, bucket__lt=hour_cut)
        out[name] = old_minutes.delete()[0] + old_hours.delete()[0]
    out["self_timings"] = SelfTiming.objects.filter(at__lt=now - dt.timedelta(days=1)).delete()[0]
    return out
