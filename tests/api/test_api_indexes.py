"""Indexes through the API on the real PostgreSQL: listing, findings, build and drop jobs read back from the catalog."""

from __future__ import annotations

from typing import Any

import psycopg2
import pytest
from psycopg2 import sql

from audit.models import AuditEvent
from connections.models import Connection
from explorer.models import IndexJob
from tests.api.conftest import PG_SCHEMA, PG_TABLE, bearer
from tests.fixtures import People
from tests.services import Servers

API = "/api/v1"


def pg_run(servers: Servers, statement: Any, params: Any = None) -> list[tuple[Any, ...]]:
    pg = servers.postgresql
    db = psycopg2.connect(host=pg.host, port=pg.port, user=pg.username, password=pg.password, dbname=pg.database)
    db.autocommit = True
    try:
        with db.cursor() as cur:
            cur.execute(statement, params)
            return cur.fetchall() if cur.description else []
    finally:
        db.close()


def catalog_indexes(servers: Servers) -> dict[str, str]:
    """Index name -> definition for the test table, as PostgreSQL's catalog has them."""
    rows = pg_run(
        servers,
        "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
        " WHERE i.indrelid = %s::regclass",
        [".".join('"' + part.replace('"', '""') + '"' for part in (PG_SCHEMA, PG_TABLE))],
    )
    return dict(rows)


def build(client: Any, connection: Connection, capture: Any, **body: Any) -> Any:
    with capture(execute=True):
        return client.post(
            f"{API}/connections/{connection.pk}/index-builds",
            {"ns": PG_SCHEMA, "obj": PG_TABLE, **body},
            content_type="application/json",
        )


def test_findings_list_a_duplicate_index_and_the_call_is_audited(
    acme_pg: Connection, servers: Servers, tokens: dict[str, str]
) -> None:
    target = sql.Identifier(PG_SCHEMA, PG_TABLE)
    pg_run(servers, sql.SQL("CREATE INDEX {} ON {} (name)").format(sql.Identifier("by name <a>"), target))
    pg_run(servers, sql.SQL("CREATE INDEX {} ON {} (name)").format(sql.Identifier("by name <b>"), target))
    response = bearer(tokens["carol"]).get(f"{API}/connections/{acme_pg.pk}/index-findings", {"ns": PG_SCHEMA})
    assert response.status_code == 200, response.content
    findings = response.json()["items"]
    duplicates = [f for f in findings if f["kind"] == "duplicate"]
    assert duplicates and {f["index"] for f in duplicates} <= {"by name <a>", "by name <b>"}
    assert all(f["table"] == PG_TABLE for f in duplicates)
    order = ["invalid", "duplicate", "prefix", "unused", "missing"]
    assert [order.index(f["kind"]) for f in findings] == sorted(order.index(f["kind"]) for f in findings)
    event = AuditEvent.objects.get(action="index.findings")
    assert event.target == PG_SCHEMA and event.detail["via"] == "api"


def test_an_editor_builds_an_index_and_drops_it_and_the_catalog_follows(
    acme_pg: Connection,
    servers: Servers,
    tokens: dict[str, str],
    people: People,
    django_capture_on_commit_callbacks: Any,
) -> None:
    editor = bearer(tokens["bob"])
    started = build(editor, acme_pg, django_capture_on_commit_callbacks, columns=["name", "id"], unique=True)
    assert started.status_code == 202, started.content
    job = editor.get(f"{API}/index-jobs/{started.json()['id']}").json()
    assert job["status"] == "done", job
    assert job["action"] == "create" and job["columns"] == ["name", "id"] and job["percent"] == 100
    built = {name: d for name, d in catalog_indexes(servers).items() if "UNIQUE" in d and "(name, id)" in d}
    assert len(built) == 1, catalog_indexes(servers)
    (name,) = built
    assert AuditEvent.objects.filter(action="index.create.queued", actor=people.bob, detail__via="api").exists()
    assert AuditEvent.objects.filter(action="index.create", actor=people.bob).exists()

    listed = bearer(tokens["carol"]).get(f"{API}/connections/{acme_pg.pk}/indexes", {"ns": PG_SCHEMA, "obj": PG_TABLE})
    assert listed.status_code == 200
    assert {i["name"]: i["columns"] for i in listed.json()["items"]}[name] == ["name", "id"]

    with django_capture_on_commit_callbacks(execute=True):
        dropped = editor.post(
            f"{API}/connections/{acme_pg.pk}/index-drops",
            {"ns": PG_SCHEMA, "obj": PG_TABLE, "name": name},
            content_type="application/json",
        )
    assert dropped.status_code == 202, dropped.content
    assert editor.get(f"{API}/index-jobs/{dropped.json()['id']}").json()["status"] == "done"
    assert name not in catalog_indexes(servers)


def test_a_viewer_may_not_build_and_nothing_is_queued(
    acme_pg: Connection, tokens: dict[str, str], django_capture_on_commit_callbacks: Any
) -> None:
    refused = build(bearer(tokens["carol"]), acme_pg, django_capture_on_commit_callbacks, columns=["name"])
    assert refused.status_code == 403
    assert refused["Content-Type"] == "application/problem+json"
    assert refused.json()["detail"] == "This needs the editor role on warehouse."
    assert not IndexJob.objects.exists()


def test_another_team_gets_404_for_the_connection_and_its_jobs(
    acme_pg: Connection, tokens: dict[str, str], django_capture_on_commit_callbacks: Any
) -> None:
    job = build(bearer(tokens["bob"]), acme_pg, django_capture_on_commit_callbacks, columns=["name"]).json()
    other = bearer(tokens["charlie"])
    for response in (
        other.get(f"{API}/connections/{acme_pg.pk}/indexes", {"ns": PG_SCHEMA, "obj": PG_TABLE}),
        other.get(f"{API}/connections/{acme_pg.pk}/index-findings", {"ns": PG_SCHEMA}),
        build(other, acme_pg, django_capture_on_commit_callbacks, columns=["name"]),
    ):
        assert response.status_code == 404 and response.json()["detail"] == "No such connection."
    missing = other.get(f"{API}/index-jobs/{job['id']}")
    assert missing.status_code == 404 and missing.json()["detail"] == "No such index job."
    assert IndexJob.objects.count() == 1


def test_anonymous_callers_get_401(acme_pg: Connection, people: People) -> None:
    job = IndexJob.objects.create(connection=acme_pg, user=people.bob, action="create", obj="t")
    for response in (
        bearer(None).get(f"{API}/connections/{acme_pg.pk}/indexes", {"ns": PG_SCHEMA, "obj": PG_TABLE}),
        bearer(None).get(f"{API}/connections/{acme_pg.pk}/index-findings"),
        bearer(None).post(f"{API}/connections/{acme_pg.pk}/index-drops", {}, content_type="application/json"),
        bearer(None).get(f"{API}/index-jobs/{job.pk}"),
    ):
        assert response.status_code == 401 and response["Content-Type"] == "application/problem+json"


def test_an_engine_without_index_tools_says_so(acme_redis: Connection, tokens: dict[str, str]) -> None:
    response = bearer(tokens["bob"]).get(f"{API}/connections/{acme_redis.pk}/indexes", {"ns": "6", "obj": "k"})
    assert response.status_code == 400
    assert response.json()["detail"] == "Redis has no index tools; open it from its own browse page."


HOSTILE = ["x'; DROP TABLE t; --", 'q"uote', "<script>alert(1)</script>", "ünï ☃ 表", "nul\x00byte", "`tick`"]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_answer_clean_problems(
    name: str, acme_pg: Connection, servers: Servers, tokens: dict[str, str], django_capture_on_commit_callbacks: Any
) -> None:
    editor = bearer(tokens["bob"])
    before = catalog_indexes(servers)
    answers = [
        editor.get(f"{API}/connections/{acme_pg.pk}/indexes", {"ns": name, "obj": PG_TABLE}),
        editor.get(f"{API}/connections/{acme_pg.pk}/indexes", {"ns": PG_SCHEMA, "obj": name}),
        editor.get(f"{API}/connections/{acme_pg.pk}/index-findings", {"ns": name}),
        build(editor, acme_pg, django_capture_on_commit_callbacks, columns=[name]),
        build(editor, acme_pg, django_capture_on_commit_callbacks, columns=["name"], obj=name),
        build(editor, acme_pg, django_capture_on_commit_callbacks, columns=["name"], ns=name),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        answers.append(
            editor.post(
                f"{API}/connections/{acme_pg.pk}/index-drops",
                {"ns": PG_SCHEMA, "obj": PG_TABLE, "name": name},
                content_type="application/json",
            )
        )
    for response in answers[:3]:
        assert response.status_code in (200, 400, 404), response.content
        assert response["Content-Type"].split(";")[0] in ("application/json", "application/problem+json")
    for response in answers[3:6]:
        assert response.status_code in (400, 404), response.content
        assert response["Content-Type"] == "application/problem+json"
        assert "<script>" not in response.json()["detail"] or name in response.json()["detail"]
    drop = answers[6]
    if drop.status_code == 202:  # queued: the job fails cleanly, naming no server error
        job = editor.get(f"{API}/index-jobs/{drop.json()['id']}").json()
        assert job["status"] == "failed" and "unexpectedly" not in job["error"], job
    else:
        assert drop.status_code in (400, 404), drop.content
    assert catalog_indexes(servers) == before
