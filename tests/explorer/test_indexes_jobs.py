"""Index pages end to end: listing, findings, what-if advice, and build / drop jobs read back from the catalog."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from django.urls import reverse

from audit.models import AuditEvent
from connections.models import Connection
from explorer.models import IndexJob
from tests.explorer.test_explain_pages import pg_connection, pg_run
from tests.fixtures import People, client_for
from tests.services import Servers

HOSTILE_COL = "st\"atus' <script>x</script>"


def _orders(servers: Servers) -> None:
    pg_run(
        servers,
        'DROP TABLE IF EXISTS "jobs ""orders"""',
        f'CREATE TABLE "jobs ""orders""" (id int PRIMARY KEY, "{HOSTILE_COL.replace(chr(34), chr(34) * 2)}" text)',
        'INSERT INTO "jobs ""orders""" SELECT g, CASE WHEN g % 400 = 0 THEN \'new\' ELSE \'old\' END'
        " FROM generate_series(1, 40000) g",
        'ANALYZE "jobs ""orders"""',
    )


def test_an_editor_builds_an_index_online_and_the_catalog_has_it(
    servers: Servers, people: People, django_capture_on_commit_callbacks: Any
) -> None:
    _orders(servers)
    connection = pg_connection(servers, people)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(people.bob).post(
            reverse("explorer:index_create", args=[connection.pk]),
            {"ns": "public", "obj": 'jobs "orders"', "col": [HOSTILE_COL]},
        )
    job = IndexJob.objects.get()
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    job.refresh_from_db()
    assert job.status == "done", job.error
    rows = pg_run(
        servers,
        "SELECT i.indisvalid, pg_get_indexdef(i.indexrelid) FROM pg_index i"
        ' WHERE i.indrelid = \'"jobs ""orders"""\'::regclass AND NOT i.indisprimary',
    )
    assert len(rows) == 1 and rows[0][0] is True
    page = client_for(people.carol).get(job.get_absolute_url()).content.decode()
    assert "Done" in page and "<script>x</script>" not in page
    assert AuditEvent.objects.filter(action="index.create", actor=people.bob).exists()
    listing = client_for(people.carol).get(
        reverse("explorer:indexes", args=[connection.pk]) + '?ns=public&obj=jobs+"orders"'
    )
    assert listing.status_code == 200 and listing.content.decode().count("<tr>") >= 3
    with django_capture_on_commit_callbacks(execute=True):
        name = rows[0][1].split(" ON ")[0].removeprefix("CREATE INDEX ").strip('"').replace('""', '"')
        client_for(people.bob).post(
            reverse("explorer:index_drop", args=[connection.pk]), {"ns": "public", "obj": 'jobs "orders"', "name": name}
        )
    assert IndexJob.objects.get(action="drop").status == "done"
    assert not pg_run(
        servers, 'SELECT 1 FROM pg_index WHERE indrelid = \'"jobs ""orders"""\'::regclass AND NOT indisprimary'
    )


def test_a_failed_build_is_reported_and_leaves_nothing_behind(
    servers: Servers, people: People, django_capture_on_commit_callbacks: Any
) -> None:
    _orders(servers)
    connection = pg_connection(servers, people)
    with django_capture_on_commit_callbacks(execute=True):
        client_for(people.bob).post(
            reverse("explorer:index_create", args=[connection.pk]),
            {"ns": "public", "obj": 'jobs "orders"', "col": [HOSTILE_COL], "unique": "1"},
        )
    job = IndexJob.objects.get()
    assert job.status == "failed" and "could not create unique index" in job.error
    assert not pg_run(
        servers, 'SELECT 1 FROM pg_index WHERE indrelid = \'"jobs ""orders"""\'::regclass AND NOT indisprimary'
    )
    assert AuditEvent.objects.filter(action="index.create.failed").exists()


def test_viewers_cannot_build_and_production_needs_the_typed_name(
    servers: Servers, people: People, django_capture_on_commit_callbacks: Any
) -> None:
    _orders(servers)
    connection = pg_connection(servers, people, production=True, name="prod pg")
    url = reverse("explorer:index_create", args=[connection.pk])
    data = {"ns": "public", "obj": 'jobs "orders"', "col": ["id"]}
    assert client_for(people.carol).post(url, data).status_code == 403
    refused = client_for(people.bob).post(url, data)
    assert refused.status_code == 400 and b"type its name" in refused.content
    assert not IndexJob.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        assert client_for(people.bob).post(url, {**data, "confirm": "prod pg"}).status_code == 302
    assert IndexJob.objects.get().status == "done"


def test_what_if_advice_on_postgresql_recommends_a_measured_index(servers: Servers, people: People) -> None:
    _orders(servers)
    connection = pg_connection(servers, people)
    col = HOSTILE_COL.replace('"', '""')
    statement = f'SELECT * FROM "jobs ""orders""" WHERE "{col}" = \'new\''
    response = client_for(people.carol).get(
        reverse("explorer:index_advice", args=[connection.pk]), {"statement": statement}
    )
    body = response.content.decode()
    assert response.status_code == 200 and "Recommended: measured with hypothetical indexes" in body
    assert "hypothetical" in body and "&lt;script&gt;x&lt;/script&gt;" in body and "<script>x" not in body
    assert "Create this index" not in body  # a viewer sees the advice, not the button
    assert AuditEvent.objects.filter(action="query.advice").exists()


def test_findings_page_lists_a_duplicate_with_its_fix(servers: Servers, people: People) -> None:
    _orders(servers)
    pg_run(servers, 'CREATE INDEX dup_a ON "jobs ""orders""" (id)')
    connection = pg_connection(servers, people)
    body = (
        client_for(people.carol)
        .get(reverse("explorer:index_findings", args=[connection.pk]), {"ns": "public"})
        .content.decode()
    )
    assert "dup_a" in body and "DROP INDEX CONCURRENTLY" in body and "duplicate" in body


def test_sqlite_heuristic_advice_is_labelled_and_buildable(
    acme_sqlite_dir: Path, people: People, django_capture_on_commit_callbacks: Any
) -> None:
    path = acme_sqlite_dir / "advice.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, status TEXT)")
    connection = Connection.objects.create(team=people.acme, name="lite", engine="sqlite", database=str(path))
    page = client_for(people.bob).get(
        reverse("explorer:index_advice", args=[connection.pk]), {"statement": "SELECT * FROM orders WHERE status = 'x'"}
    )
    assert b"Heuristic advice (not measured)" in page.content and b"Create this index" in page.content
    with django_capture_on_commit_callbacks(execute=True):
        client_for(people.bob).post(
            reverse("explorer:index_create", args=[connection.pk]), {"ns": "main", "obj": "orders", "col": ["status"]}
        )
    assert IndexJob.objects.get().status == "done"
    with sqlite3.connect(path) as db:
        assert [r[1] for r in db.execute("PRAGMA index_list(orders)")] == ["orders_status_idx"]


def test_a_mongodb_index_is_built_from_typed_fields_with_direction(
    servers: Servers, people: People, django_capture_on_commit_callbacks: Any
) -> None:
    from pymongo import MongoClient

    m = servers.mongodb
    client = MongoClient(host=m.host, port=m.port, username=m.username, password=m.password, authSource="admin")
    client["dbdeck_test"]["jobs'coll"].drop()
    client["dbdeck_test"]["jobs'coll"].insert_one({"kind": "a", "at": 1})
    connection = Connection(
        team=people.acme,
        name="mongo",
        engine="mongodb",
        host=m.host,
        port=m.port,
        database="dbdeck_test",
        username=m.username,
        options={"tls_mode": "disable", "auth_source": "admin"},
    )
    connection.set_secret(m.password)
    connection.save()
    page = client_for(people.bob).get(
        reverse("explorer:indexes", args=[connection.pk]), {"ns": "dbdeck_test", "obj": "jobs'coll"}
    )
    assert page.status_code == 200 and b'placeholder="field or field:-1"' in page.content
    with django_capture_on_commit_callbacks(execute=True):
        client_for(people.bob).post(
            reverse("explorer:index_create", args=[connection.pk]),
            {"ns": "dbdeck_test", "obj": "jobs'coll", "col": ["kind", "at:-1", ""]},
        )
    assert IndexJob.objects.get().status == "done"
    keys = [dict(spec["key"]) for spec in client["dbdeck_test"]["jobs'coll"].list_indexes()]
    client.close()
    assert {"kind": 1, "at": -1} in keys
