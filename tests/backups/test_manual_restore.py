"""Manual restore by an admin: a dry run of what it replaces, a typed confirmation, a second one on production."""

from __future__ import annotations

from typing import Any

import psycopg2
from django.urls import reverse

from audit.models import AuditEvent
from backups.models import Artifact
from tests.fixtures import client_for


def test_a_manual_restore_shows_a_dry_run_then_needs_the_typed_names_and_is_audited(
    pg_plan: Any, people: Any, backup_now: Any, servers: Any, django_capture_on_commit_callbacks: Any
) -> None:
    artifact = Artifact.objects.get(run=backup_now(pg_plan, people.bob))
    target = pg_plan.connection
    target.production = True
    target.save()
    pg = servers.postgresql
    with (
        psycopg2.connect(
            host=pg.host, port=pg.port, user=pg.username, password=pg.password, dbname=target.database
        ) as conn,
        conn.cursor() as cur,
    ):
        cur.execute("DELETE FROM orders WHERE id > 10")
    url = reverse("backups:artifact_restore", args=[artifact.pk])
    admin = client_for(people.alice)
    page = admin.get(url, {"target": target.pk}).content.decode()
    assert "public.orders" in page and "10 — will be replaced" in page and "restore over production" in page
    wrong = admin.post(url, {"target": target.pk, "confirm": "shop db", "confirm_production": ""})
    assert wrong.status_code == 400 and "Type the target" in wrong.content.decode()
    half = admin.post(url, {"target": target.pk, "confirm": target.name, "confirm_production": "yes"})
    assert half.status_code == 400 and "This target is production" in half.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        done = admin.post(
            url, {"target": target.pk, "confirm": target.name, "confirm_production": "restore over production"}
        )
    assert done.status_code == 302
    with (
        psycopg2.connect(
            host=pg.host, port=pg.port, user=pg.username, password=pg.password, dbname=target.database
        ) as conn,
        conn.cursor() as cur,
    ):
        cur.execute("SELECT count(*) FROM orders")
        assert cur.fetchone()[0] == 1000
    assert AuditEvent.objects.filter(action="backup.restore", actor=people.alice, connection=target).exists()
    assert AuditEvent.objects.get(action="backup.restore_done").detail["ok"] is True


def test_editors_cannot_restore_and_another_teams_admin_sees_nothing(
    pg_plan: Any, people: Any, backup_now: Any
) -> None:
    artifact = Artifact.objects.get(run=backup_now(pg_plan, people.bob))
    url = reverse("backups:artifact_restore", args=[artifact.pk])
    assert client_for(people.bob).post(url, {"target": pg_plan.connection_id}).status_code == 403
    assert client_for(people.charlie).get(url).status_code == 404


def test_a_failed_backup_alerts_by_webhook_and_email_with_the_runs_link(
    pg_plan: Any, people: Any, backup_now: Any, monkeypatch: Any
) -> None:
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from django.core import mail

    from connections.engines.postgresql.backup import PostgreSQLBackup

    got: list[dict[str, Any]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            got.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    pg_plan.alert_webhook = f"http://127.0.0.1:{server.server_address[1]}/hook"
    pg_plan.alert_emails = "dba@example.com"
    pg_plan.save()
    monkeypatch.setattr(PostgreSQLBackup, "client_pattern", "/nonexistent/*/bin")
    run = backup_now(pg_plan, people.bob)
    server.shutdown()
    server.server_close()
    assert run.status == "failed"
    [alert] = got
    assert alert["kind"] == "backup.failed" and alert["url"].endswith(run.get_absolute_url())
    assert "postgresql-client-15" in alert["text"]
    [message] = mail.outbox
    assert message.to == ["dba@example.com"] and run.get_absolute_url() in message.body
