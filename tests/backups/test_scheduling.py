"""The beat tick: due slots queued once however many beats, missed slots recorded and alerted, lost workers reaped."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core import mail
from django.utils import timezone

from audit.models import AuditEvent
from backups import schedule
from backups.models import Artifact, BackupRun, RunStatus
from backups.tasks import run_tick


def test_next_five_times_follow_the_plans_time_zone_across_a_dst_change() -> None:
    after = dt.datetime(2026, 3, 27, 12, 0, tzinfo=dt.UTC)
    times = schedule.next_times("30 2 * * *", "Europe/Berlin", after)
    assert [t.strftime("%m-%d %H:%M") for t in times][:1] == ["03-28 02:30"]
    assert all(t.utcoffset() in (dt.timedelta(hours=1), dt.timedelta(hours=2)) for t in times)


def test_two_beats_in_the_same_minute_queue_the_slot_once(
    pg_plan: Any, people: Any, django_capture_on_commit_callbacks: Any
) -> None:
    pg_plan.cron, pg_plan.restore_test_cron = "*/5 * * * *", ""
    pg_plan.created_at = timezone.now() - dt.timedelta(days=1)
    pg_plan.save()
    now = timezone.now().replace(second=30, microsecond=0)
    with django_capture_on_commit_callbacks(execute=True):
        first = run_tick(now)
        second = run_tick(now + dt.timedelta(seconds=20))
    assert first["queued"] == 1 and second["queued"] == 0
    [run] = BackupRun.objects.all()
    assert run.trigger == "schedule" and run.status == RunStatus.SUCCEEDED, run.error
    assert Artifact.objects.filter(run=run).exists()


def test_a_missed_slot_is_recorded_as_failed_once_and_alerted(pg_plan: Any, settings: Any) -> None:
    pg_plan.cron, pg_plan.alert_emails = "0 3 * * *", "dba@example.com"
    pg_plan.save()
    type(pg_plan).objects.filter(pk=pg_plan.pk).update(created_at=timezone.now() - dt.timedelta(days=3))
    now = timezone.now().replace(hour=9, minute=0)
    assert run_tick(now)["missed"] == 1 and run_tick(now)["missed"] == 0
    [run] = BackupRun.objects.all()
    assert run.status == RunStatus.FAILED and run.error.startswith("Missed")
    [message] = mail.outbox
    assert "schedule missed" in message.subject and pg_plan.get_absolute_url() in message.body


def test_the_reaper_fails_a_run_whose_worker_stopped_heartbeating(pg_plan: Any, settings: Any) -> None:
    stale = timezone.now() - dt.timedelta(seconds=settings.DBDECK_BACKUP_HEARTBEAT_TIMEOUT_S + 60)
    run = BackupRun.objects.create(
        plan=pg_plan, status=RunStatus.RUNNING, started_at=stale, heartbeat_at=stale, worker="gone:1"
    )
    pg_plan.cron = "0 0 1 1 *"
    pg_plan.save()
    assert run_tick(timezone.now())["reaped"] == 1
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and run.error.startswith("Worker lost") and run.finished_at
    assert not Artifact.objects.filter(run=run).exists()
    assert AuditEvent.objects.filter(action="backup.failed", detail__error="worker lost").exists()


def test_retention_deletes_old_artifacts_keeps_the_verified_one_and_audits(
    pg_plan: Any, people: Any, backup_now: Any, restore_test_now: Any
) -> None:
    pg_plan.keep_last, pg_plan.keep_daily, pg_plan.keep_weekly, pg_plan.keep_monthly = 1, 0, 0, 0
    pg_plan.save()
    first = backup_now(pg_plan, people.bob)
    assert restore_test_now(pg_plan, people.bob).status == RunStatus.SUCCEEDED
    backup_now(pg_plan, people.bob)
    third = backup_now(pg_plan, people.bob)
    alive = set(Artifact.objects.filter(deleted_at__isnull=True).values_list("run_id", flat=True))
    assert alive == {first.pk, third.pk}
    assert AuditEvent.objects.filter(action="backup.retention_delete").count() == 1
