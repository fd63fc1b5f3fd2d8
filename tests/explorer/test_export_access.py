"""An export queued by someone who loses access before it runs stops cleanly: job failed, audited, no traceback."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from accounts.models import Membership
from audit.models import AuditEvent
from connections.models import Connection
from explorer.models import Export, ExportStatus
from explorer.tasks import export_path, run_export
from tests.fixtures import People, client_for


@pytest.fixture
def queued(acme_sqlite: Connection, people: People, django_capture_on_commit_callbacks: Any) -> Export:
    """Carol queues an export through the page; the worker has not picked it up yet."""
    url = reverse("explorer:export", args=[acme_sqlite.pk]) + "?" + urlencode({"ns": "main", "obj": "t"})
    with django_capture_on_commit_callbacks(execute=False):
        response = client_for(people.carol).post(url, {"format": "csv", "max_rows": "10"})
    assert response.status_code == 302
    export = Export.objects.get()
    assert export.status == ExportStatus.QUEUED
    return export


def assert_stopped_for_access(export: Export, caplog: Any) -> None:
    with caplog.at_level(logging.INFO, logger="explorer.tasks"):
        assert run_export(export.pk) == "access removed"
    export.refresh_from_db()
    assert export.status == ExportStatus.FAILED
    assert export.error.startswith("Access removed: carol can no longer read this connection")
    assert export.rows_written == 0 and not export_path(export).exists()
    event = AuditEvent.objects.get(action="data.export.denied")
    assert (event.actor, event.connection_id, event.target) == (export.user, export.connection_id, "main.t")
    assert event.detail == {"reason": "No such connection."}
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]


def test_an_export_whose_owner_left_the_team_fails_as_access_removed(
    queued: Export, people: People, caplog: Any
) -> None:
    Membership.objects.filter(user=people.carol, team=people.acme).delete()
    assert_stopped_for_access(queued, caplog)
    assert not AuditEvent.objects.filter(action="data.export").exists()


def test_an_export_whose_owner_was_deactivated_fails_as_access_removed(
    queued: Export, people: People, caplog: Any
) -> None:
    people.carol.is_active = False
    people.carol.save()
    assert_stopped_for_access(queued, caplog)


def test_an_export_still_allowed_runs(queued: Export, sqlite_root: Path) -> None:
    assert run_export(queued.pk) == "done"
    queued.refresh_from_db()
    assert queued.status == ExportStatus.DONE and queued.rows_written == 1
