"""Celery tasks of the backups queue: they take primary keys and re-read everything from the database."""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task
from django.db import IntegrityError, transaction
from django.utils import timezone

from backups import alerts, restore_tests, runner, schedule
from backups.models import BackupPlan, BackupRun, RunStatus

log = logging.getLogger(__name__)
GRACE = dt.timedelta(minutes=10)


@shared_task(name="backups.tasks.run_backup", acks_late=True)
def run_backup(run_id: int) -> str:
    return runner.execute(run_id)


@shared_task(name="backups.tasks.run_restore_test", acks_late=True)
def run_restore_test(test_id: int) -> str:
    return restore_tests.execute(test_id)


@shared_task(name="backups.tasks.tick")
def tick() -> dict[str, int]:
    return run_tick(timezone.now())


def run_tick(now: dt.datetime) -> dict[str, int]:
    """Queue every due slot once (the unique (plan, slot) claim makes a second beat a no-op), record missed ones."""
    queued = tests = missed = 0
    for plan in BackupPlan.objects.select_related("connection").filter(enabled=True):
        try:
            slot = schedule.due(plan.cron, plan.timezone, now, GRACE)
            if slot is not None and runner.queue(plan, scheduled_for=slot) is not None:
                queued += 1
            elif slot is None:
                missed += _missed(plan, now)
            test_slot = schedule.due(plan.restore_test_cron, plan.timezone, now, GRACE)
            if test_slot is not None and restore_tests.queue(plan, scheduled_for=test_slot) is not None:
                tests += 1
        except schedule.ScheduleError as exc:
            log.warning("plan %s has a bad schedule: %s", plan.pk, exc)
    BackupPlan.objects.filter(enabled=True).update(last_tick_at=now)
    reaped = runner.reap(now)
    return {"queued": queued, "restore_tests": tests, "missed": missed, "reaped": len(reaped)}


def _missed(plan: BackupPlan, now: dt.datetime) -> int:
    """The newest slot went by without a run (no beat, no worker): a failed row says so, once, and alerts."""
    slot = schedule.last_slot(plan.cron, plan.timezone, now)
    if slot <= plan.created_at or BackupRun.objects.filter(plan=plan, scheduled_for=slot).exists():
        return 0
    try:
        with transaction.atomic():
            run = BackupRun.objects.create(
                plan=plan,
                trigger="schedule",
                scheduled_for=slot,
                status=RunStatus.FAILED,
                finished_at=now,
                error=f"Missed: the run due at {slot:%Y-%m-%d %H:%M} UTC never started (no beat or no worker then).",
            )
    except IntegrityError:
        return 0
    alerts.schedule_missed(plan, f"{slot:%Y-%m-%d %H:%M} UTC")
    return 1 if run else 0


@shared_task(name="backups.tasks.run_manual_restore", acks_late=False)
def run_manual_restore(artifact_id: int, target_id: int, user_id: int) -> str:
    """Re-checks the admin role on both sides, restores with clean, audits the outcome."""
    from django.contrib.auth import get_user_model

    from accounts.models import Role
    from audit.record import record
    from backups.manual import restore_onto
    from backups.models import Artifact
    from connections.access import get_connection_for

    user = get_user_model().objects.get(pk=user_id)
    artifact = Artifact.objects.select_related("plan", "destination").get(pk=artifact_id)
    get_connection_for(user, artifact.plan.connection_id, need=Role.ADMIN)
    target, _ = get_connection_for(user, target_id, need=Role.ADMIN)
    report = restore_onto(artifact, target)
    record(
        "backup.restore_done",
        actor=user,
        connection=target,
        target=artifact.manifest_url,
        ok=report.ok,
        error=report.error,
        elapsed_ms=round(report.elapsed_ms),
    )
    return "ok" if report.ok else "failed"
