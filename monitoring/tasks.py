"""Celery tasks of the monitoring queue: the beat tick, one connection's collection, rollup and purge."""

from __future__ import annotations

from celery import shared_task
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from connections.engines.capabilities import Monitor
from connections.models import Connection
from monitoring import alerts, rollup
from monitoring.collect import collect
from monitoring.models import Collector


def due_connections() -> list[int]:
    """Connections whose engine can be monitored and whose collector is due and not leased."""
    now = timezone.now()
    known = set(Collector.objects.values_list("connection_id", flat=True))
    fresh = [
        Collector(connection=c)
        for c in Connection.objects.exclude(pk__in=known).only("pk", "engine")
        if c.adapter_cls.has(Monitor)
    ]
    Collector.objects.bulk_create(fresh, ignore_conflicts=True)
    due = Collector.objects.filter(enabled=True).filter(Q(next_run_at__isnull=True) | Q(next_run_at__lte=now))
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    return list(due.filter(free).values_list("connection_id", flat=True))


@shared_task(name="monitoring.tick", acks_late=True, time_limit=120, soft_time_limit=100)
def tick() -> int:
    """Queue every due connection as its own task, so a slow or failing one holds up nobody."""
    ids = due_connections()
    for pk in ids:
        transaction.on_commit(lambda pk=pk: collect_connection.apply_async(args=[pk], queue="monitoring"))
    return len(ids)


@shared_task(name="monitoring.collect_connection", acks_late=True, time_limit=240, soft_time_limit=200)
def collect_connection(connection_id: int) -> str:
    if not Connection.objects.filter(pk=connection_id).exists():
        return "gone"
    outcome = collect(connection_id)
    if outcome.status in ("ok", "failed"):
        alerts.evaluate(connection_id)
    return outcome.status


@shared_task(name="monitoring.rollup_and_purge", acks_late=True, time_limit=1800, soft_time_limit=1700)
def rollup_and_purge() -> dict[str, int]:
    rolled = rollup.roll_up_all()
    purged = rollup.purge()
    return {"rolled": rolled, **purged}
