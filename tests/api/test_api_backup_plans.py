"""Backup plans through the API: create, read back, change, delete, and the runs list, validated by the page's form."""

from __future__ import annotations

from typing import Any

import pytest

from audit.models import AuditEvent
from backups import schedule
from backups.models import BackupPlan, BackupRun, Destination, RunStatus
from connections.models import Connection
from tests.api.conftest import bearer
from tests.fixtures import People

API = "/api/v1"


@pytest.fixture
def destination(people: People) -> Destination:
    return Destination.objects.create(team=people.acme, name="Local <disk>", kind="local")


def plan_body(connection: Connection, destination: Destination, **changes: Any) -> dict[str, Any]:
    return {
        "connection": connection.pk,
        "name": "nightly 'q\" <script>",
        "destination": destination.pk,
        "cron": "15 2 * * *",
        "timezone": "Europe/Berlin",
        "compression_level": 5,
        "encrypt": False,
        "keep_last": 3,
        "restore_test_cron": "",
        "alert_emails": "ops@example.com",
        "alert_webhook": "https://hooks.example.com/T000/secret",
        "namespaces": ["public", "ünï"],
        "verify": [{"query": "SELECT count(*) FROM items", "expected": "250"}],
        **changes,
    }


def create(client: Any, body: dict[str, Any]) -> Any:
    return client.post(f"{API}/backups/plans", body, content_type="application/json")


def test_an_admin_creates_a_plan_and_reads_back_the_same_fields(
    acme_pg: Connection, destination: Destination, tokens: dict[str, str], people: People
) -> None:
    admin = bearer(tokens["alice"])
    body = plan_body(acme_pg, destination)
    created = create(admin, body)
    assert created.status_code == 201, created.content
    read = admin.get(f"{API}/backups/plans/{created.json()['id']}").json()
    assert read == created.json()
    expected = {k: v for k, v in body.items() if k not in ("destination", "alert_webhook")}
    assert {k: read[k] for k in expected} == expected
    assert read["destination_id"] == destination.pk and read["destination"] == "Local <disk>"
    assert read["has_webhook"] is True and "secret" not in str(read)
    plan = BackupPlan.objects.get(pk=read["id"])
    assert plan.created_by == people.alice and plan.scope["namespaces"] == ["public", "ünï"]
    event = AuditEvent.objects.get(action="backup.plan_create")
    assert event.target == body["name"] and event.detail["via"] == "api" and event.detail["cron"] == "15 2 * * *"


def test_patch_changes_the_cron_and_keeps_the_rest(
    acme_pg: Connection, destination: Destination, tokens: dict[str, str]
) -> None:
    admin = bearer(tokens["alice"])
    before = create(admin, plan_body(acme_pg, destination)).json()
    changed = admin.patch(
        f"{API}/backups/plans/{before['id']}", {"cron": "0 */6 * * *"}, content_type="application/json"
    )
    assert changed.status_code == 200, changed.content
    after = admin.get(f"{API}/backups/plans/{before['id']}").json()
    assert after["cron"] == "0 */6 * * *"
    assert {**before, "cron": "0 */6 * * *", "badge": None} == {**after, "badge": None}
    assert BackupPlan.objects.get(pk=before["id"]).alert_webhook == "https://hooks.example.com/T000/secret"
    assert AuditEvent.objects.filter(action="backup.plan_edit", detail__cron="0 */6 * * *").exists()


def test_an_invalid_cron_answers_the_forms_message(
    acme_pg: Connection, destination: Destination, tokens: dict[str, str]
) -> None:
    admin = bearer(tokens["alice"])
    with pytest.raises(schedule.ScheduleError) as raised:
        schedule.check("61 * * * *", "UTC")
    refused = create(admin, plan_body(acme_pg, destination, cron="61 * * * *"))
    assert refused.status_code == 400 and refused["Content-Type"] == "application/problem+json"
    assert refused.json()["errors"] == {"cron": [str(raised.value)]}
    assert str(raised.value) in refused.json()["detail"]
    plan = create(admin, plan_body(acme_pg, destination)).json()
    patched = admin.patch(f"{API}/backups/plans/{plan['id']}", {"cron": "61 * * * *"}, content_type="application/json")
    assert patched.status_code == 400 and patched.json()["errors"] == {"cron": [str(raised.value)]}
    zone = admin.patch(
        f"{API}/backups/plans/{plan['id']}", {"timezone": "Mars/Olympus"}, content_type="application/json"
    )
    assert zone.status_code == 400 and "timezone" in zone.json()["errors"]
    assert BackupPlan.objects.get().cron == "15 2 * * *"


def test_another_teams_destination_is_refused(
    acme_pg: Connection, destination: Destination, tokens: dict[str, str], people: People
) -> None:
    theirs = Destination.objects.create(team=people.globex, name="Globex disk", kind="local")
    admin = bearer(tokens["alice"])
    refused = create(admin, plan_body(acme_pg, theirs))
    assert refused.status_code == 400 and "destination" in refused.json()["errors"], refused.content
    plan = create(admin, plan_body(acme_pg, destination)).json()
    moved = admin.patch(
        f"{API}/backups/plans/{plan['id']}", {"destination": theirs.pk}, content_type="application/json"
    )
    assert moved.status_code == 400 and "destination" in moved.json()["errors"]
    assert BackupPlan.objects.get().destination == destination


def test_editors_and_viewers_may_not_create_change_or_delete_plans(
    acme_pg: Connection, destination: Destination, tokens: dict[str, str]
) -> None:
    plan = create(bearer(tokens["alice"]), plan_body(acme_pg, destination)).json()
    for who in ("bob", "carol"):
        client = bearer(tokens[who])
        refused = create(client, plan_body(acme_pg, destination, name="mine"))
        assert refused.status_code == 403 and refused.json()["detail"] == "This needs the admin role on warehouse."
        patch = client.patch(
            f"{API}/backups/plans/{plan['id']}", {"cron": "1 1 * * *"}, content_type="application/json"
        )
        assert patch.status_code == 403
        assert client.delete(f"{API}/backups/plans/{plan['id']}").status_code == 403
    other = bearer(tokens["charlie"])
    assert create(other, plan_body(acme_pg, destination, name="x")).json()["detail"] == "No such connection."
    assert other.delete(f"{API}/backups/plans/{plan['id']}").json()["detail"] == "No such plan."
    assert bearer(None).post(f"{API}/backups/plans", {}, content_type="application/json").status_code == 401
    assert list(BackupPlan.objects.values_list("cron", flat=True)) == ["15 2 * * *"]


def test_delete_removes_the_plan_and_then_it_answers_404(
    acme_pg: Connection, destination: Destination, tokens: dict[str, str]
) -> None:
    admin = bearer(tokens["alice"])
    plan = create(admin, plan_body(acme_pg, destination)).json()
    deleted = admin.delete(f"{API}/backups/plans/{plan['id']}")
    assert deleted.status_code == 204
    gone = admin.get(f"{API}/backups/plans/{plan['id']}")
    assert gone.status_code == 404 and gone.json()["detail"] == "No such plan."
    assert AuditEvent.objects.filter(action="backup.plan_delete", target=plan["name"]).exists()


def test_a_production_plan_needs_the_typed_name_and_an_active_run_blocks_delete(
    acme_pg: Connection, destination: Destination, tokens: dict[str, str]
) -> None:
    admin = bearer(tokens["alice"])
    plan = create(admin, plan_body(acme_pg, destination)).json()
    Connection.objects.filter(pk=acme_pg.pk).update(production=True)
    unconfirmed = admin.delete(f"{API}/backups/plans/{plan['id']}")
    assert unconfirmed.status_code == 400 and "type its name" in unconfirmed.json()["detail"]
    BackupRun.objects.create(plan_id=plan["id"], status=RunStatus.RUNNING)
    busy = admin.delete(f"{API}/backups/plans/{plan['id']}?confirm=warehouse")
    assert busy.status_code == 409
    assert BackupPlan.objects.filter(pk=plan["id"]).exists()


def test_runs_are_listed_newest_first_in_pages(
    acme_pg: Connection, destination: Destination, tokens: dict[str, str]
) -> None:
    plan = BackupPlan.objects.create(connection=acme_pg, name="nightly", destination=destination)
    made = [BackupRun.objects.create(plan=plan, status=RunStatus.SUCCEEDED).pk for _ in range(5)]
    viewer = bearer(tokens["carol"])
    seen: list[int] = []
    cursor = ""
    for _ in range(5):
        page = viewer.get(f"{API}/backups/plans/{plan.pk}/runs", {"limit": 2, "cursor": cursor})
        assert page.status_code == 200, page.content
        body = page.json()
        assert len(body["items"]) <= 2
        seen += [r["id"] for r in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(made, reverse=True)
    damaged = viewer.get(f"{API}/backups/plans/{plan.pk}/runs", {"cursor": "nonsense"})
    assert damaged.status_code == 400 and damaged["Content-Type"] == "application/problem+json"
    assert bearer(tokens["charlie"]).get(f"{API}/backups/plans/{plan.pk}/runs").status_code == 404
