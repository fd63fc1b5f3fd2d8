"""The EXPLAIN pages: the form, ANALYZE for editors only (rolled back, said so), saved plans, compare, audit."""

from __future__ import annotations

import re

import psycopg2
import pytest
from django.urls import reverse

from audit.models import AuditEvent
from connections.models import Connection
from explorer.models import SavedPlan
from tests.fixtures import People, client_for
from tests.services import Servers

TABLE = '"pl\'an <b>orders</b>"'


def pg_connection(servers: Servers, people: People, **fields: object) -> Connection:
    pg = servers.postgresql
    connection = Connection(
        team=people.acme,
        name=str(fields.pop("name", "pg")),
        engine="postgresql",
        host=pg.host,
        port=pg.port,
        database=pg.database,
        username=pg.username,
        options={"tls_mode": "disable"},
        **fields,
    )
    connection.set_secret(pg.password)
    connection.save()
    return connection


def pg_run(servers: Servers, *statements: str) -> list[tuple]:
    pg = servers.postgresql
    conn = psycopg2.connect(host=pg.host, port=pg.port, user=pg.username, password=pg.password, dbname=pg.database)
    conn.autocommit = True
    rows: list[tuple] = []
    with conn.cursor() as cur:
        for statement in statements:
            cur.execute(statement)
            rows = cur.fetchall() if cur.description else []
    conn.close()
    return rows


@pytest.fixture
def pg_orders(servers: Servers) -> str:
    pg_run(
        servers,
        f"DROP TABLE IF EXISTS {TABLE}",
        f"CREATE TABLE {TABLE} (id int PRIMARY KEY, status text, note text)",
        f"INSERT INTO {TABLE} SELECT g, CASE WHEN g % 1000 = 0 THEN 'new' ELSE 'done' END, '<script>'"
        " FROM generate_series(1, 50000) g",
        f"ANALYZE {TABLE}",
    )
    return TABLE


def test_the_form_is_prefilled_from_the_query_string(servers: Servers, people: People) -> None:
    connection = pg_connection(servers, people)
    url = reverse("explorer:explain", args=[connection.pk]) + "?statement=SELECT+%27%3Cscript%3E%27"
    body = client_for(people.carol).get(url).content.decode()
    assert "SELECT &#x27;&lt;script&gt;&#x27;" in body and "<script>'" not in body
    assert 'name="analyze"' not in body and "needs the editor role" in body
    assert 'name="analyze"' in client_for(people.bob).get(url).content.decode()


def test_an_editors_analyze_is_saved_highlighted_hinted_and_audited(
    servers: Servers, people: People, pg_orders: str
) -> None:
    connection = pg_connection(servers, people)
    statement = f"SELECT * FROM {pg_orders} WHERE status = 'new'"
    response = client_for(people.bob).post(
        reverse("explorer:explain", args=[connection.pk]), {"statement": statement, "analyze": "1"}
    )
    saved = SavedPlan.objects.get()
    assert response.status_code == 302 and response["Location"] == saved.get_absolute_url()
    body = client_for(people.carol).get(saved.get_absolute_url()).content.decode()
    assert 'class="plan-node hot big-scan"' in body
    assert (
        "Seq Scan on pl&#x27;an &lt;b&gt;orders&lt;/b&gt; reads 50,000 rows to return 50: an index on (status)" in body
    )
    assert reverse("explorer:index_advice", args=[connection.pk]) in body and "Raw plan" in body
    assert "rolled back" in body
    event = AuditEvent.objects.get(action="query.explain")
    assert event.detail["statement"] == statement and event.detail["analyze"] is True
    assert event.actor == people.bob and event.detail["outcome"] == "ok"


def test_analyze_of_a_write_is_rolled_back_and_the_page_says_so(
    servers: Servers, people: People, pg_orders: str
) -> None:
    connection = pg_connection(servers, people)
    client_for(people.bob).post(
        reverse("explorer:explain", args=[connection.pk]), {"statement": f"DELETE FROM {pg_orders}", "analyze": "1"}
    )
    body = client_for(people.bob).get(SavedPlan.objects.get().get_absolute_url()).content.decode()
    assert "<strong>rolled back</strong>" in body
    assert pg_run(servers, f"SELECT count(*) FROM {pg_orders}") == [(50000,)]


def test_viewers_get_plans_without_analyze_on_the_read_only_session(
    servers: Servers, people: People, pg_orders: str
) -> None:
    connection = pg_connection(servers, people)
    url = reverse("explorer:explain", args=[connection.pk])
    refused = client_for(people.carol).post(url, {"statement": f"DELETE FROM {pg_orders}", "analyze": "1"})
    assert refused.status_code == 403 and b"editor role" in refused.content
    assert AuditEvent.objects.filter(action="query.explain.denied", actor=people.carol).exists()
    fine = client_for(people.carol).post(url, {"statement": f"DELETE FROM {pg_orders}"})
    assert fine.status_code == 302
    assert not SavedPlan.objects.get().analyzed
    assert pg_run(servers, f"SELECT count(*) FROM {pg_orders}") == [(50000,)]


def test_a_failing_statement_shows_its_error_and_is_audited(servers: Servers, people: People) -> None:
    connection = pg_connection(servers, people)
    response = client_for(people.bob).post(
        reverse("explorer:explain", args=[connection.pk]), {"statement": "SELECT * FROM no_such_table_x"}
    )
    assert response.status_code == 404 and b"no_such_table_x" in response.content
    assert AuditEvent.objects.get(action="query.explain").detail["outcome"] == "error"
    nul = client_for(people.bob).post(reverse("explorer:explain", args=[connection.pk]), {"statement": "SELECT '\x00'"})
    assert nul.status_code == 400 and b"NUL" in nul.content


def test_two_plans_compare_side_by_side_before_and_after_an_index(
    servers: Servers, people: People, pg_orders: str
) -> None:
    connection = pg_connection(servers, people)
    url = reverse("explorer:explain", args=[connection.pk])
    statement = f"SELECT * FROM {pg_orders} WHERE status = 'new'"
    client_for(people.bob).post(url, {"statement": statement, "analyze": "1"})
    pg_run(servers, f"CREATE INDEX ON {pg_orders} (status)", f"ANALYZE {pg_orders}")
    client_for(people.bob).post(url, {"statement": statement, "analyze": "1"})
    before, after = SavedPlan.objects.order_by("created_at")
    assert after.root_cost < before.root_cost
    compare = reverse("explorer:plan_compare", args=[connection.pk]) + f"?a={before.token}&b={after.token}"
    body = client_for(people.carol).get(compare).content.decode()
    assert "Seq Scan" in body and ("Index Scan" in body or "Bitmap" in body)
    assert re.search(r'<td class="num better">-\d+%</td>', body)


def test_saved_plans_are_shared_in_the_team_and_404_elsewhere(servers: Servers, people: People) -> None:
    connection = pg_connection(servers, people)
    client_for(people.bob).post(reverse("explorer:explain", args=[connection.pk]), {"statement": "SELECT 1"})
    saved = SavedPlan.objects.get()
    assert client_for(people.carol).get(saved.get_absolute_url()).status_code == 200
    assert client_for(people.charlie).get(saved.get_absolute_url()).status_code == 404
    other = pg_connection(servers, people, name="other")
    moved = reverse("explorer:plan", args=[other.pk, saved.token])
    assert client_for(people.alice).get(moved).status_code == 404


def test_a_plan_of_thousands_of_nodes_renders_with_deep_subtrees_collapsed(servers: Servers, people: People) -> None:
    connection = pg_connection(servers, people)
    union = " UNION ALL ".join(f"(SELECT count(*) FROM pg_class WHERE relpages = {i})" for i in range(600))
    client_for(people.bob).post(reverse("explorer:explain", args=[connection.pk]), {"statement": union})
    saved = SavedPlan.objects.get()
    assert saved.node_count > 1000
    body = client_for(people.bob).get(saved.get_absolute_url()).content.decode()
    assert body.count('class="plan-node') == saved.node_count
    assert "<details open>" in body and "<details>" in body


def test_analyze_on_production_needs_the_typed_name(servers: Servers, people: People, pg_orders: str) -> None:
    connection = pg_connection(servers, people, production=True, name="prod")
    url = reverse("explorer:explain", args=[connection.pk])
    statement = f"SELECT count(*) FROM {pg_orders}"
    refused = client_for(people.bob).post(url, {"statement": statement, "analyze": "1"})
    assert refused.status_code == 400 and b"type its name" in refused.content and not SavedPlan.objects.exists()
    assert client_for(people.bob).post(url, {"statement": statement}).status_code == 302  # estimates need nothing
    assert (
        client_for(people.bob).post(url, {"statement": statement, "analyze": "1", "confirm": "prod"}).status_code == 302
    )
    assert SavedPlan.objects.filter(analyzed=True).count() == 1


def test_explain_again_and_the_what_if_link_name_the_saved_plan(servers: Servers, people: People) -> None:
    connection = pg_connection(servers, people)
    client_for(people.bob).post(reverse("explorer:explain", args=[connection.pk]), {"statement": "SELECT 42"})
    saved = SavedPlan.objects.get()
    again = client_for(people.carol).get(reverse("explorer:explain", args=[connection.pk]), {"plan": str(saved.token)})
    assert b"SELECT 42</textarea>" in again.content
    other = pg_connection(servers, people, name="other")
    assert (
        client_for(people.carol)
        .get(reverse("explorer:explain", args=[other.pk]), {"plan": str(saved.token)})
        .status_code
        == 404
    )
