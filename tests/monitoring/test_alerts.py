"""Alert rules: raised once while the condition holds, delivered by email, acknowledged, silenced, resolved."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core import mail
from django.urls import reverse
from django.utils import timezone

from connections.models import Connection
from monitoring import alerts
from monitoring.collect import bucket_of, collect
from monitoring.models import AlertEvent, AlertKind, AlertRule, AlertState, Collector, Fingerprint, StatementSample
from tests.fixtures import People, client_for


def failing(people: People, port: int) -> Connection:
    return Connection.objects.create(
        team=people.acme,
        name="down <b>",
        engine="postgresql",
        host="127.0.0.1",
        port=port,
        options={"tls_mode": "disable", "connect_timeout": 1},
    )


def test_a_failing_collector_raises_one_alert_by_email_until_it_recovers(people: People, closed_port: int) -> None:
    broken = failing(people, closed_port)
    AlertRule.objects.create(connection=broken, kind=AlertKind.COLLECTOR_FAILING, emails="ops@example.com")
    collect(broken.pk)
    alerts.evaluate(broken.pk)
    collect(broken.pk)
    alerts.evaluate(broken.pk)
    assert AlertEvent.objects.filter(connection=broken, state=AlertState.FIRING).count() == 1
    assert len(mail.outbox) == 1 and "down <b>" in mail.outbox[0].subject
    assert AlertEvent.objects.get().deliveries == [{"channel": "email", "ok": True, "error": ""}]
    Collector.objects.filter(connection=broken).update(failure="")
    alerts.evaluate(broken.pk)
    assert AlertEvent.objects.get().state == AlertState.RESOLVED


def test_a_silenced_rule_records_the_alert_but_sends_nothing(people: People, closed_port: int) -> None:
    broken = failing(people, closed_port)
    AlertRule.objects.create(
        connection=broken,
        kind=AlertKind.COLLECTOR_FAILING,
        emails="ops@example.com",
        silenced_until=timezone.now() + dt.timedelta(hours=1),
    )
    collect(broken.pk)
    alerts.evaluate(broken.pk)
    assert AlertEvent.objects.get().deliveries[0]["error"] == "silenced"
    assert mail.outbox == []


def test_thresholds_read_the_latest_gauges(people: People, acme_sqlite: Connection) -> None:
    collector = Collector.objects.create(
        connection=acme_sqlite, latest={"gauges": {"blocked_sessions": 3, "replication_lag_s{standby=a}": 45}}
    )
    AlertRule.objects.create(connection=acme_sqlite, kind=AlertKind.BLOCKED_SESSIONS, threshold=2)
    AlertRule.objects.create(connection=acme_sqlite, kind=AlertKind.REPLICATION_LAG, threshold=60)
    raised = alerts.evaluate(collector.connection_id)
    assert [e.rule.kind for e in raised] == [AlertKind.BLOCKED_SESSIONS]


def test_a_statement_whose_mean_doubled_against_last_week_raises_an_alert(
    people: People, acme_sqlite: Connection
) -> None:
    Collector.objects.create(connection=acme_sqlite)
    fp = Fingerprint.objects.create(connection=acme_sqlite, key="k", text="SELECT ?")
    now = timezone.now()
    for when, total in ((now - dt.timedelta(minutes=10), 300.0), (now - dt.timedelta(days=7, minutes=10), 100.0)):
        StatementSample.objects.create(
            connection=acme_sqlite, fingerprint=fp, bucket=bucket_of(when), calls=10, total_ms=total
        )
    AlertRule.objects.create(connection=acme_sqlite, kind=AlertKind.MEAN_DOUBLED, threshold=2)
    raised = alerts.evaluate(acme_sqlite.pk, now)
    assert len(raised) == 1 and raised[0].value == 3.0


def test_editors_acknowledge_and_admins_save_rules_with_a_checked_webhook(
    people: People, acme_sqlite: Connection, settings: Any
) -> None:
    url = reverse("monitoring:rule_save", args=[acme_sqlite.pk])
    form = {
        "kind": "blocked_sessions",
        "threshold": "1",
        "emails": "a@example.com",
        "webhook": "http://169.254.169.254/x",
    }
    client_for(people.alice).post(url, form)
    assert not AlertRule.objects.exists()  # the metadata endpoint is refused by the host policy
    client_for(people.alice).post(url, {**form, "webhook": ""})
    rule = AlertRule.objects.get()
    event = AlertEvent.objects.create(rule=rule, connection=acme_sqlite, subject="x")
    client_for(people.carol).post(reverse("monitoring:alert_ack", args=[acme_sqlite.pk, event.pk]))
    assert AlertEvent.objects.get().state == AlertState.FIRING
    client_for(people.bob).post(reverse("monitoring:alert_ack", args=[acme_sqlite.pk, event.pk]))
    assert AlertEvent.objects.get().state == AlertState.ACKNOWLEDGED
    page = client_for(people.carol).get(reverse("monitoring:alerts", args=[acme_sqlite.pk])).content.decode()
    assert "acknowledged by bob" in page
