"""Backups, restore-tests, monitoring and console runs through the API, on the real servers."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg2
import pytest

from audit.models import AuditEvent
from backups.models import BackupPlan, BackupRun, Destination, RunStatus
from connections.models import Connection
from explorer.console.models import ConsoleSession, SessionStatus
from monitoring.collect import collect
from tests.api.conftest import bearer
from tests.fixtures import People
from tests.services import Servers

API = "/api/v1"


@pytest.fixture(autouse=True)
def backup_root(tmp_path: Path, settings: Any) -> Path:
    root = tmp_path / "backups"
    root.mkdir()
    settings.DBDECK_BACKUP_ROOT = root
    return root


@pytest.fixture
def plan(acme_sqlite: Connection, people: People) -> BackupPlan:
    destination = Destination.objects.create(team=people.acme, name="Local", kind="local")
    return BackupPlan.objects.create(connection=acme_sqlite, name="nightly <b>", destination=destination)


def test_an_editor_runs_a_backup_and_polls_it_to_success(
    plan: BackupPlan, tokens: dict[str, str], django_capture_on_commit_callbacks: Any
) -> None:
    client = bearer(tokens["bob"])
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(f"{API}/backups/plans/{plan.pk}/runs")
    assert started.status_code == 202, started.content
    run = client.get(f"{API}/backups/runs/{started.json()['id']}").json()
    assert run["status"] == "succeeded" and run["artifact"] is not None and run["bytes_written"] > 0
    assert AuditEvent.objects.filter(action="backup.queue", detail__via="api").exists()
    artifacts = client.get(f"{API}/backups/plans/{plan.pk}/artifacts").json()["items"]
    assert [a["run"] for a in artifacts] == [run["id"]]


def test_a_restore_test_proves_the_backup_and_the_badge_turns_green(
    plan: BackupPlan, tokens: dict[str, str], django_capture_on_commit_callbacks: Any
) -> None:
    client = bearer(tokens["bob"])
    missing = client.post(f"{API}/backups/plans/{plan.pk}/restore-tests")
    assert missing.status_code == 409 and "no backup to test yet" in missing.json()["detail"]
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"{API}/backups/plans/{plan.pk}/runs")
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(f"{API}/backups/plans/{plan.pk}/restore-tests")
    assert started.status_code == 202
    test = client.get(f"{API}/backups/restore-tests/{started.json()['id']}").json()
    assert test["status"] == "succeeded", test
    assert test["checks"] and all(c["ok"] for c in test["checks"])
    listed = bearer(tokens["carol"]).get(f"{API}/backups/plans").json()["items"]
    assert [(p["name"], p["badge"]["state"]) for p in listed] == [("nightly <b>", "green")]


def test_viewers_read_plans_but_cannot_run_them_and_other_teams_see_nothing(
    plan: BackupPlan, tokens: dict[str, str]
) -> None:
    viewer = bearer(tokens["carol"])
    assert viewer.get(f"{API}/backups/plans/{plan.pk}").status_code == 200
    refused = viewer.post(f"{API}/backups/plans/{plan.pk}/runs")
    assert refused.status_code == 403 and refused.json()["detail"] == "This needs the editor role on Acme shop."
    other = bearer(tokens["charlie"])
    for response in (other.get(f"{API}/backups/plans/{plan.pk}"), other.post(f"{API}/backups/plans/{plan.pk}/runs")):
        assert response.status_code == 404 and response.json()["detail"] == "No such plan."
    assert other.get(f"{API}/backups/plans").json()["items"] == []
    assert not BackupRun.objects.exists()


def test_a_queued_run_is_cancelled_and_a_second_start_returns_the_active_run(
    plan: BackupPlan, tokens: dict[str, str]
) -> None:
    client = bearer(tokens["bob"])
    first = client.post(f"{API}/backups/plans/{plan.pk}/runs").json()  # not committed: stays queued
    again = client.post(f"{API}/backups/plans/{plan.pk}/runs").json()
    assert again["id"] == first["id"]
    cancelled = client.post(f"{API}/backups/runs/{first['id']}/cancel").json()
    assert cancelled["status"] == "cancelled" and "Cancelled by bob" in cancelled["error"]
    assert BackupRun.objects.get().status == RunStatus.CANCELLED


def test_slow_statements_come_from_the_collectors_samples(
    acme_pg: Connection, servers: Servers, tokens: dict[str, str]
) -> None:
    pg = servers.postgresql
    db = psycopg2.connect(host=pg.host, port=pg.port, user=pg.username, password=pg.password, dbname=pg.database)
    db.autocommit = True
    collect(acme_pg.pk)
    with db.cursor() as cur:
        # pg_stat_statements keys a statement by its shape (aliases and constants do not count) and keeps
        # the first text it saw: the cast makes this probe a statement of its own, apart from the pages' one.
        for i in range(3):
            cur.execute("SELECT %s::varchar AS api_slow_probe, pg_sleep(0.01) WHERE %s > 0", ["<b>'x'</b>", i])
    collect(acme_pg.pk)
    db.close()
    client = bearer(tokens["carol"])
    found = client.get(f"{API}/connections/{acme_pg.pk}/monitoring/slow", {"range": "1h", "q": "api_slow_probe"})
    assert found.status_code == 200, found.content
    items = found.json()["items"]
    assert len(items) == 1 and items[0]["calls"] == 3 and items[0]["total_ms"] >= 15  # two of the three slept 10 ms
    charts = client.get(f"{API}/connections/{acme_pg.pk}/monitoring/series", {"range": "1h"}).json()["charts"]
    assert {"throughput", "sessions"} <= {c["key"] for c in charts}
    bad = client.get(f"{API}/connections/{acme_pg.pk}/monitoring/slow", {"range": "custom", "from": "yesterday"})
    assert bad.status_code == 200 and "Custom ranges need from and to" in bad.json()["range"]["notice"]


@pytest.fixture
def console_host(settings: Any, transactional_db: Any) -> Iterator[None]:
    settings.DBDECK_CONSOLE_HOST = "thread"
    settings.DBDECK_CONSOLE_IDLE_S = 20
    yield
    ConsoleSession.objects.update(status=SessionStatus.CLOSED)
    for thread in threading.enumerate():
        if thread.name.startswith("console-"):
            thread.join(5)


def finished(client: Any, url: str) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        run = client.get(url).json()
        if run["status"] in ("done", "failed", "cancelled"):
            return run
        time.sleep(0.05)
    raise AssertionError(f"run did not finish: {run}")


def test_a_console_run_is_a_job_whose_result_exports_in_full(
    acme_sqlite: Connection, tokens: dict[str, str], console_host: None
) -> None:
    client = bearer(tokens["carol"])
    base = f"{API}/connections/{acme_sqlite.pk}/console"
    started = client.post(
        f"{base}/runs", {"text": "SELECT id, name FROM t; SELECT 1/0 AS x"}, content_type="application/json"
    )
    assert started.status_code == 202, started.content
    run = finished(client, f"{base}/runs/{started.json()['id']}")
    assert run["read_only"] is True
    first = run["results"][0]
    assert first["columns"] == ["id", "name"] and first["error"] == ""
    export = client.post(f"{base}/results/{first['id']}/export", {"format": "jsonl"}, content_type="application/json")
    assert export.status_code == 202
    status = client.get(f"{API}/connections/{acme_sqlite.pk}/exports/{export.json()['id']}").json()
    deadline = time.monotonic() + 10
    while status["status"] not in ("done", "failed") and time.monotonic() < deadline:
        time.sleep(0.05)
        status = client.get(f"{API}/connections/{acme_sqlite.pk}/exports/{export.json()['id']}").json()
    body = b"".join(client.get(status["download"]).streaming_content)
    assert body == b'{"id": 1, "name": "x"}\n'


def test_a_viewers_console_write_is_refused_by_the_database(
    acme_sqlite: Connection, tokens: dict[str, str], console_host: None
) -> None:
    client = bearer(tokens["carol"])
    base = f"{API}/connections/{acme_sqlite.pk}/console"
    started = client.post(f"{base}/runs", {"text": "DELETE FROM t"}, content_type="application/json").json()
    run = finished(client, f"{base}/runs/{started['id']}")
    assert run["results"][0]["error"]
    import sqlite3

    assert sqlite3.connect(acme_sqlite.database).execute("SELECT count(*) FROM t").fetchone() == (1,)


def test_someone_elses_run_is_404(acme_sqlite: Connection, tokens: dict[str, str], console_host: None) -> None:
    base = f"{API}/connections/{acme_sqlite.pk}/console"
    started = bearer(tokens["carol"]).post(f"{base}/runs", {"text": "SELECT 1"}, content_type="application/json")
    response = bearer(tokens["bob"]).get(f"{base}/runs/{started.json()['id']}")
    assert response.status_code == 404 and response.json()["detail"] == "No such run."


def test_explain_saves_a_plan_that_reads_back_by_its_token(acme_pg: Connection, tokens: dict[str, str]) -> None:
    from tests.api.conftest import PG_SCHEMA, PG_TABLE

    client = bearer(tokens["carol"])
    quoted = '"' + PG_SCHEMA.replace('"', '""') + '"."' + PG_TABLE.replace('"', '""') + '"'
    body = {"statement": f"SELECT * FROM {quoted} WHERE name = 'x'"}
    made = client.post(f"{API}/connections/{acme_pg.pk}/explain", body, content_type="application/json")
    assert made.status_code == 201, made.content
    plan = made.json()
    assert plan["nodes"][0]["operation"] == "Seq Scan" and plan["nodes"][0]["relation"] == PG_TABLE
    again = client.get(f"{API}/connections/{acme_pg.pk}/plans/{plan['token']}").json()
    assert again["raw"] == plan["raw"] and again["analyzed"] is False
    assert AuditEvent.objects.filter(action="query.explain", detail__via="api", detail__outcome="ok").exists()


def test_explain_analyze_needs_the_editor_role_and_on_production_the_name(
    acme_pg: Connection, tokens: dict[str, str]
) -> None:
    body = {"statement": "SELECT 1", "analyze": True}
    refused = bearer(tokens["carol"]).post(
        f"{API}/connections/{acme_pg.pk}/explain", body, content_type="application/json"
    )
    assert refused.status_code == 403 and "needs the editor role" in refused.json()["detail"]
    Connection.objects.filter(pk=acme_pg.pk).update(production=True)
    unconfirmed = bearer(tokens["bob"]).post(
        f"{API}/connections/{acme_pg.pk}/explain", body, content_type="application/json"
    )
    assert unconfirmed.status_code == 400 and "type its name to confirm" in unconfirmed.json()["detail"]
    confirmed = bearer(tokens["bob"]).post(
        f"{API}/connections/{acme_pg.pk}/explain", {**body, "confirm": "warehouse"}, content_type="application/json"
    )
    assert confirmed.status_code == 201 and confirmed.json()["analyzed"] is True
