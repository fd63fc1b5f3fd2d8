"""Alerts on a failed backup, a failed restore-test and a missed schedule, through config/notify.py."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from django.conf import settings

from config.notify import Alert, Delivery, deliver

if TYPE_CHECKING:
    from backups.models import BackupPlan, BackupRun, RestoreTest

log = logging.getLogger(__name__)


def _link(path: str) -> str:
    return str(getattr(settings, "DBDECK_PUBLIC_URL", "")).rstrip("/") + path


def _send(plan: BackupPlan, alert: Alert) -> list[Delivery]:
    if not plan.emails and not plan.alert_webhook:
        return []
    sent = deliver(alert, emails=plan.emails, webhook=plan.alert_webhook)
    for d in sent:
        if not d.ok:
            log.warning("alert %s by %s not delivered: %s", alert.kind, d.channel, d.error)
    return sent


def backup_failed(run: BackupRun) -> list[Delivery]:
    plan = run.plan
    return _send(
        plan,
        Alert(
            subject=f"Backup {run.get_status_display().lower()}: {plan.name} on {plan.connection.name}",
            text=run.error or "The backup did not finish.",
            url=_link(run.get_absolute_url()),
            kind="backup.failed",
            fields={"plan": plan.name, "connection": plan.connection.name, "run": str(run.pk)},
        ),
    )


def restore_test_failed(test: RestoreTest) -> list[Delivery]:
    plan = test.plan
    return _send(
        plan,
        Alert(
            subject=f"Restore-test failed: {plan.name} on {plan.connection.name}",
            text=test.error or "The restore-test did not pass.",
            url=_link(test.get_absolute_url()),
            kind="restore_test.failed",
            fields={"plan": plan.name, "connection": plan.connection.name, "restore_test": str(test.pk)},
        ),
    )


def schedule_missed(plan: BackupPlan, slot: str) -> list[Delivery]:
    return _send(
        plan,
        Alert(
            subject=f"Backup schedule missed: {plan.name} on {plan.connection.name}",
            text=f"The run due at {slot} did not start: no worker on the backups queue, or no beat then.",
            url=_link(plan.get_absolute_url()),
            kind="schedule.missed",
            fields={"plan": plan.name, "connection": plan.connection.name, "slot": slot},
        ),
    )
