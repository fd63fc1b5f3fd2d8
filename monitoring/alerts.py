"""Alert rules checked after every collection: raise once while a condition holds, resolve when it stops.

Delivery goes through config/notify.py (email and webhook); a silenced rule still records its
alerts in the history but sends nothing until the silence ends.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from config.notify import Alert, deliver
from monitoring.models import OTHER, AlertEvent, AlertKind, AlertRule, AlertState, Collector, StatementSample

OPEN = (AlertState.FIRING, AlertState.ACKNOWLEDGED)


def _gauge_max(collector: Collector, name: str) -> float:
    gauges = (collector.latest or {}).get("gauges", {})
    values = [v for k, v in gauges.items() if k == name or k.startswith(name + "{")]
    return max(values, default=0.0)


def mean_ratio(connection_id: int, now: dt.datetime) -> tuple[float, str]:
    """The largest mean-time ratio of a statement, last hour against the same hour a week ago."""

    def means(start: dt.datetime) -> dict[int, float]:
        rows = (
            StatementSample.objects.filter(
                connection_id=connection_id, bucket__gte=start, bucket__lt=start + dt.timedelta(hours=1)
            )
            .exclude(fingerprint__key=OTHER)
            .values("fingerprint_id")
            .annotate(calls=Sum("calls"), total=Sum("total_ms"))
        )
        return {r["fingerprint_id"]: r["total"] / r["calls"] for r in rows if r["calls"]}

    hour_ago = now - dt.timedelta(hours=1)
    current, before = means(hour_ago), means(hour_ago - dt.timedelta(days=7))
    best, which = 0.0, ""
    for fp, mean in current.items():
        if before.get(fp) and mean / before[fp] > best:
            best, which = mean / before[fp], str(fp)
    return best, which


def measure(rule: AlertRule, collector: Collector, now: dt.datetime) -> tuple[bool, float, str]:
    kind = rule.kind
    if kind == AlertKind.COLLECTOR_FAILING:
        return bool(collector.failure), float(collector.failures), collector.failure
    if kind == AlertKind.MEAN_DOUBLED:
        ratio, fp = mean_ratio(collector.connection_id, now)
        factor = rule.threshold or 2.0
        return ratio >= factor, ratio, f"statement #{fp}'s mean time is {ratio:.1f}x last week's" if fp else ""
    name = {
        AlertKind.REPLICATION_LAG: "replication_lag_s",
        AlertKind.LONG_TRANSACTION: "longest_transaction_s",
        AlertKind.BLOCKED_SESSIONS: "blocked_sessions",
    }[AlertKind(kind)]
    value = _gauge_max(collector, name)
    return value > rule.threshold, value, f"{name.replace('_', ' ')} is {value:g} (threshold {rule.threshold:g})"


def evaluate(connection_id: int, now: dt.datetime | None = None) -> list[AlertEvent]:
    now = now or timezone.now()
    found = Collector.objects.filter(connection_id=connection_id).select_related("connection")
    collector = found.defer("previous", "previous_metrics").first()
    if collector is None:
        return []
    raised = []
    for rule in AlertRule.objects.filter(connection_id=connection_id):
        holds, value, detail = measure(rule, collector, now)
        open_event = AlertEvent.objects.filter(rule=rule, state__in=OPEN).first()
        if holds and open_event is None:
            raised.append(_raise(rule, collector, value, detail, now))
        elif not holds and open_event is not None:
            AlertEvent.objects.filter(pk=open_event.pk).update(state=AlertState.RESOLVED, resolved_at=now)
    return raised


def _raise(rule: AlertRule, collector: Collector, value: float, detail: str, now: dt.datetime) -> AlertEvent:
    connection = collector.connection
    subject = f"{rule.get_kind_display()}: {connection.name}"
    event = AlertEvent.objects.create(
        rule=rule, connection=connection, subject=subject[:300], detail=detail, value=value
    )
    if rule.silenced_until and rule.silenced_until > now:
        event.deliveries = [{"channel": "all", "ok": False, "error": "silenced"}]
    else:
        alert = Alert(
            subject=subject,
            text=detail or subject,
            url=reverse("monitoring:connection", args=[connection.pk]),
            kind=f"monitor.{rule.kind}",
            fields={"connection": connection.name, "value": f"{value:g}"},
        )
        sent = deliver(alert, emails=rule.email_list(), webhook=rule.webhook)
        event.deliveries = [{"channel": d.channel, "ok": d.ok, "error": d.error} for d in sent]
    event.save(update_fields=["deliveries"])
    return event
