"""The console through HTTP with a real session host thread: runs, pages, More, Cancel, transactions,
viewers' refusals, production confirmation, history, saved queries and audit events."""

from __future__ import annotations

import html
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from connections.models import Connection
from explorer.console.models import (
    ConsoleResult,
    ConsoleRun,
    ConsoleSession,
    QueryHistory,
    RunStatus,
    SavedQuery,
    SessionStatus,
)
from tests.fixtures import People, client_for
from tests.services import Servers

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _thread_host(settings: Any) -> Iterator[None]:
    settings.DBDECK_CONSOLE_HOST = "thread"
    settings.DBDECK_CONSOLE_IDLE_S = 20
    yield
    stop_hosts()


def stop_hosts() -> None:
    """Close every session and wait for its host thread, so none outlives the test's database."""
    ConsoleSession.objects.update(status=SessionStatus.CLOSED)
    for thread in threading.enumerate():
        if thread.name.startswith("console-"):
            thread.join(5)


def pg_connection(servers: Servers, people: People, *, production: bool = False) -> Connection:
    pg = servers.postgresql
    conn = Connection(
        team=people.acme, name="pg console", engine="postgresql", host=pg.host, port=pg.port,
        database=pg.database, username=pg.username, options={"tls_mode": "disable"}, production=production,
    )  # fmt: skip
    conn.set_secret(pg.password)
    conn.save()
    return conn


def cells(result: ConsoleResult) -> list[list[str]]:
    """The page's values as text, row by row (the row number column left out)."""
    rows = re.findall(r"<tr>(.*?)</tr>", result.html)
    return [[html.unescape(v) for v in re.findall(r'<td class="v-[^"]*">(.*?)</td>', row)] for row in rows]


def run(client: Any, conn: Connection, text: str, wait: float = 15, **extra: Any) -> ConsoleRun:
    response = client.post(
        reverse("explorer:console_run", args=[conn.pk]), {"text": text, **extra}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code in (200, 286), response.content[:500]
    found = ConsoleRun.objects.latest("id")
    return finish(client, conn, found, wait)


def finish(client: Any, conn: Connection, found: ConsoleRun, wait: float = 15) -> ConsoleRun:
    deadline = time.monotonic() + wait
    url = reverse("explorer:console_run_status", args=[conn.pk, found.pk])
    while time.monotonic() < deadline:
        response = client.get(url, HTTP_HX_REQUEST="true")
        if response.status_code == 286:
            break
        time.sleep(0.1)
    found.refresh_from_db()
    return found


def test_an_editor_runs_two_statements_and_sees_rows_then_a_row_count(servers: Servers, people: People) -> None:
    conn = pg_connection(servers, people)
    client = client_for(people.bob)
    assert client.get(reverse("explorer:console", args=[conn.pk])).status_code == 200
    done = run(
        client, conn, "SELECT g, '<script>x</script>' AS s FROM generate_series(1, 3) g; CREATE TEMP TABLE x (n int)"
    )
    results = list(ConsoleResult.objects.filter(run=done))
    assert done.status == RunStatus.DONE
    assert cells(results[0]) == [["1", "<script>x</script>"], ["2", "<script>x</script>"], ["3", "<script>x</script>"]]
    page = client.get(reverse("explorer:console_run_status", args=[conn.pk, done.pk]), HTTP_HX_REQUEST="true")
    assert b"&lt;script&gt;x&lt;/script&gt;" in page.content and b"<script>x" not in page.content
    assert AuditEvent.objects.filter(action="console.statement", connection=conn).count() == 2
    assert QueryHistory.objects.filter(user=people.bob, connection=conn, outcome="ok").count() == 2


def test_more_continues_the_same_cursor_page_by_page(servers: Servers, people: People) -> None:
    conn = pg_connection(servers, people)
    client = client_for(people.bob)
    done = run(client, conn, "SELECT g FROM generate_series(1, 250) g ORDER BY g", batch="100")
    result = ConsoleResult.objects.get(run=done)
    assert result.held and result.has_more and cells(result)[-1] == ["100"]
    client.post(reverse("explorer:console_more", args=[conn.pk, result.pk]), HTTP_HX_REQUEST="true")
    finish(client, conn, ConsoleRun.objects.latest("id"))
    result.refresh_from_db()
    assert result.first_row == 101 and cells(result)[0] == ["101"] and cells(result)[-1] == ["200"]
    client.post(reverse("explorer:console_more", args=[conn.pk, result.pk]), HTTP_HX_REQUEST="true")
    finish(client, conn, ConsoleRun.objects.latest("id"))
    result.refresh_from_db()
    assert cells(result) == [[str(n)] for n in range(201, 251)] and not result.has_more


def test_cancel_through_http_stops_pg_sleep(servers: Servers, people: People) -> None:
    conn = pg_connection(servers, people)
    client = client_for(people.bob)
    client.post(
        reverse("explorer:console_run", args=[conn.pk]), {"text": "SELECT pg_sleep(60)"}, HTTP_HX_REQUEST="true"
    )
    running = ConsoleRun.objects.latest("id")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        running.refresh_from_db()
        if running.status == RunStatus.RUNNING:
            break
        time.sleep(0.05)
    time.sleep(0.3)
    started = time.monotonic()
    client.post(reverse("explorer:console_cancel", args=[conn.pk, running.pk]), HTTP_HX_REQUEST="true")
    done = finish(client, conn, running, wait=5)
    assert done.status == RunStatus.CANCELLED and time.monotonic() - started < 3
    assert QueryHistory.objects.filter(user=people.bob, outcome="cancelled").exists()


def test_a_transaction_opened_with_the_button_is_rolled_back_with_the_button(servers: Servers, people: People) -> None:
    conn = pg_connection(servers, people)
    client = client_for(people.bob)
    run(client, conn, "DROP TABLE IF EXISTS console_http_tx; CREATE TABLE console_http_tx (n int)")
    url = reverse("explorer:console_transaction", args=[conn.pk])
    client.post(url, {"action": "begin", "isolation": "repeatable read"}, HTTP_HX_REQUEST="true")
    finish(client, conn, ConsoleRun.objects.latest("id"))
    inserted = run(client, conn, "INSERT INTO console_http_tx VALUES (1)")
    assert inserted.session.in_transaction if inserted.session.refresh_from_db() is None else False
    page = client.get(reverse("explorer:console_run_status", args=[conn.pk, inserted.pk]), HTTP_HX_REQUEST="true")
    assert b"transaction open" in page.content
    client.post(url, {"action": "rollback"}, HTTP_HX_REQUEST="true")
    finish(client, conn, ConsoleRun.objects.latest("id"))
    counted = run(client, conn, "SELECT count(*) FROM console_http_tx")
    assert cells(ConsoleResult.objects.get(run=counted)) == [["0"]]


def test_a_viewer_cannot_write_through_the_console(servers: Servers, people: People) -> None:
    conn = pg_connection(servers, people)
    run(client_for(people.bob), conn, "DROP TABLE IF EXISTS console_http_ro; CREATE TABLE console_http_ro (n int)")
    refused = run(client_for(people.carol), conn, "INSERT INTO console_http_ro VALUES (1)")
    assert refused.status == RunStatus.FAILED
    assert "read-only" in ConsoleResult.objects.get(run=refused).error
    counted = run(client_for(people.bob), conn, "SELECT count(*) FROM console_http_ro")
    assert cells(ConsoleResult.objects.get(run=counted)) == [["0"]]
    event = AuditEvent.objects.filter(action="console.statement", actor=people.carol).latest("id")
    assert event.detail["outcome"] == "error" and "viewer" in event.detail["role"]
    assert event.detail["statement"] == "INSERT INTO console_http_ro VALUES (?)"


def test_a_production_write_needs_the_typed_connection_name(servers: Servers, people: People) -> None:
    conn = pg_connection(servers, people, production=True)
    client = client_for(people.bob)
    refused = run(client, conn, "CREATE TEMP TABLE p (n int)")
    assert "production" in ConsoleResult.objects.get(run=refused).error
    allowed = run(client, conn, "CREATE TEMP TABLE p (n int)", confirm_name="pg console")
    assert ConsoleResult.objects.get(run=allowed).error == ""
    read = run(client, conn, "SELECT 1")
    assert ConsoleResult.objects.get(run=read).error == ""


def test_history_and_saved_queries_are_searchable_and_saved_ones_shared_in_the_team(
    servers: Servers, people: People
) -> None:
    conn = pg_connection(servers, people)
    bob = client_for(people.bob)
    run(bob, conn, "SELECT 'needle' AS n")
    run(bob, conn, "SELECT 'other' AS n")
    page = bob.get(reverse("explorer:console_history", args=[conn.pk]), {"q": "needle"})
    assert b"needle" in page.content and b"other" not in page.content
    bob.post(reverse("explorer:console_saved", args=[conn.pk]), {"name": "Big orders", "text": "SELECT 42"})
    assert SavedQuery.objects.filter(team=people.acme, name="Big orders").exists()
    carol_page = client_for(people.carol).get(reverse("explorer:console_saved", args=[conn.pk]), {"q": "big"})
    assert b"Big orders" in carol_page.content
    assert client_for(people.charlie).get(reverse("explorer:console_saved", args=[conn.pk])).status_code == 404


def test_export_full_result_streams_the_console_statement_to_csv(servers: Servers, people: People) -> None:
    from explorer.models import Export
    from explorer.tasks import export_path

    conn = pg_connection(servers, people)
    client = client_for(people.bob)
    done = run(client, conn, "SELECT g FROM generate_series(1, 3000) g", batch="100")
    result = ConsoleResult.objects.get(run=done)
    response = client.post(reverse("explorer:console_export", args=[conn.pk, result.pk]), {"format": "csv"})
    assert response.status_code == 302
    export = Export.objects.latest("id")
    assert export.status == "done", export.error
    lines = export_path(export).read_text().splitlines()
    assert lines[0] == "g" and lines[-1] == "3000" and len(lines) == 3001
