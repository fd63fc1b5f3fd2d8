"""The backup pages: plans made by admins, runs and restore-tests by editors, progress polled by htmx."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from audit.models import AuditEvent
from backups.models import BackupPlan, BackupRun, RunStatus
from tests.fixtures import client_for


def plan_data(connection: Any, destination: Any, **overrides: Any) -> dict[str, Any]:
    data = {
        "connection": connection.pk,
        "name": "nightly <script>alert(1)</script>",
        "cron": "15 2 * * *",
        "timezone": "Europe/Berlin",
        "destination": destination.pk,
        "compression_level": 3,
        "encrypt": "on",
        "keep_last": 3,
        "keep_daily": 7,
        "keep_weekly": 4,
        "keep_monthly": 6,
        "restore_test_cron": "0 5 * * 0",
        "restore_window_hours": 192,
        "enabled": "on",
        "verify": "SELECT count(*) FROM orders => 1000",
        "namespaces": "public\n-dash",
    }
    data.update(overrides)
    return data


def test_an_admin_creates_a_plan_and_its_page_shows_the_next_five_runs_escaped(
    acme_pg: Any, local_destination: Any, people: Any
) -> None:
    response = client_for(people.alice).post(reverse("backups:plan_create"), plan_data(acme_pg, local_destination))
    plan = BackupPlan.objects.get()
    assert response.status_code == 302 and response["Location"] == plan.get_absolute_url()
    assert plan.scope["namespaces"] == ["public", "-dash"]
    assert plan.verify_queries == [{"query": "SELECT count(*) FROM orders", "expected": "1000"}]
    page = client_for(people.carol).get(plan.get_absolute_url()).content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert page.count(" 02:15 CE") == 5  # CET or CEST: five local 02:15 slots
    assert AuditEvent.objects.filter(action="backup.plan_create", connection=acme_pg).exists()


def test_a_bad_cron_or_time_zone_is_refused_with_words_and_nothing_saved(
    acme_pg: Any, local_destination: Any, people: Any
) -> None:
    admin = client_for(people.alice)
    bad = admin.post(reverse("backups:plan_create"), plan_data(acme_pg, local_destination, cron="61 * * * *"))
    assert bad.status_code == 400 and "is not a cron expression" in bad.content.decode()
    zone = admin.post(reverse("backups:plan_create"), plan_data(acme_pg, local_destination, timezone="Mars/Olympus"))
    assert zone.status_code == 400 and "Unknown time zone" in zone.content.decode()
    nul = admin.post(reverse("backups:plan_create"), plan_data(acme_pg, local_destination, objects="a\x00b"))
    assert nul.status_code == 400
    assert not BackupPlan.objects.exists()


def test_an_editor_runs_a_plan_now_and_the_progress_poll_stops_with_286_when_done(
    pg_plan: Any, people: Any, django_capture_on_commit_callbacks: Any
) -> None:
    editor = client_for(people.bob)
    with django_capture_on_commit_callbacks(execute=True):
        response = editor.post(reverse("backups:run_now", args=[pg_plan.pk]))
    run = BackupRun.objects.get()
    assert response.status_code == 302 and response["Location"] == run.get_absolute_url()
    assert run.status == RunStatus.SUCCEEDED and run.started_by == people.bob
    poll = editor.get(run.get_absolute_url(), HTTP_HX_REQUEST="true")
    assert poll.status_code == 286 and "Succeeded" in poll.content.decode()
    page = editor.get(run.get_absolute_url()).content.decode()
    assert "manifest.json" in page and 'hx-trigger="every 1s"' not in page


def test_a_running_run_keeps_polling_and_cancel_marks_a_queued_one_cancelled(pg_plan: Any, people: Any) -> None:
    run = BackupRun.objects.create(plan=pg_plan, started_by=people.bob)
    editor = client_for(people.bob)
    poll = editor.get(run.get_absolute_url(), HTTP_HX_REQUEST="true")
    assert poll.status_code == 200 and 'hx-trigger="every 1s"' in poll.content.decode()
    editor.post(reverse("backups:run_cancel", args=[run.pk]))
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED and "Cancelled by bob" in run.error
    assert AuditEvent.objects.filter(action="backup.cancel").exists()


def test_the_connection_list_and_page_show_the_badge_turning_green_after_a_restore_test(
    pg_plan: Any, people: Any, backup_now: Any, restore_test_now: Any
) -> None:
    viewer = client_for(people.carol)
    backup_now(pg_plan, people.bob)
    before = viewer.get(reverse("connections:list")).content.decode()
    assert "backup-red" in before and "no verified restore" in before
    test = restore_test_now(pg_plan, people.bob)
    assert test.status == RunStatus.SUCCEEDED, test.error
    after = viewer.get(reverse("connections:detail", args=[pg_plan.connection_id])).content.decode()
    assert "backup-green" in after and "restore verified" in after and "RTO" in after
    listing = viewer.get(reverse("connections:list")).content.decode()
    assert "backup-green" in listing
