"""The monitoring pages on collected data: overview, charts and slow queries, a statement, sessions."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.urls import reverse

from audit.models import AuditEvent
from connections.models import Connection
from monitoring.collect import collect
from monitoring.models import Collector, Fingerprint
from tests.fixtures import People, client_for
from tests.monitoring.conftest import pg_connect
from tests.services import Servers

HOSTILE = "<script>alert('x')</script>"


def collected(connection: Connection, servers: Servers) -> Fingerprint:
    conn = pg_connect(servers)
    first = collect(connection.pk)
    assert first.status == "ok", first
    with conn.cursor() as cur:  # a shape no other test runs: pg_stat_statements keeps one text per shape
        for i in range(3):
            cur.execute("SELECT %s::text AS mon_page, pg_sleep(0.01) WHERE %s > 0", [HOSTILE, i])
    second = collect(connection.pk)
    assert second.status == "ok", second
    conn.close()
    return Fingerprint.objects.get(connection=connection, text__contains="mon_page")


def test_the_connection_page_shows_charts_and_the_slow_query_table(
    acme_pg: Connection, people: People, servers: Servers
) -> None:
    fp = collected(acme_pg, servers)
    response = client_for(people.carol).get(reverse("monitoring:connection", args=[acme_pg.pk]) + "?range=1h")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="statement-table"' in html and "mon_page" in html
    assert reverse("monitoring:query", args=[acme_pg.pk, fp.pk]) in html
    data = json.loads(html.split('id="mon-chart-data" type="application/json">')[1].split("</script>")[0])
    assert {c["key"] for c in data} >= {"throughput", "sessions", "size"}
    assert "<script>alert" not in html


def test_the_slow_query_table_filters_and_sorts_in_place(acme_pg: Connection, people: People, servers: Servers) -> None:
    collected(acme_pg, servers)
    url = reverse("monitoring:connection", args=[acme_pg.pk])
    client = client_for(people.carol)
    found = client.get(
        url, {"range": "1h", "q": "mon_page", "sort": "mean", "part": "statements"}, HTTP_HX_REQUEST="true"
    )
    assert found.status_code == 200 and "mon_page" in found.content.decode()
    assert "<html" not in found.content.decode()
    missing = client.get(url, {"range": "1h", "q": "no such statement ' \x00 <b>"})
    assert "No statements in this range" in missing.content.decode()


def test_a_bad_custom_range_says_so_and_shows_a_day(acme_pg: Connection, people: People) -> None:
    response = client_for(people.carol).get(
        reverse("monitoring:connection", args=[acme_pg.pk]), {"range": "custom", "from": "yesterday"}
    )
    assert response.status_code == 200 and "Custom ranges need" in response.content.decode()


def test_a_statement_page_links_to_explain_and_fills_placeholders(
    acme_pg: Connection, people: People, servers: Servers
) -> None:
    fp = collected(acme_pg, servers)
    client = client_for(people.carol)
    page = client.get(reverse("monitoring:query", args=[acme_pg.pk, fp.pk]) + "?range=1h").content.decode()
    assert "$1" in page and 'id="explain-form"' in page
    filled = client.get(
        reverse("monitoring:query_explain", args=[acme_pg.pk, fp.pk]),
        {"p$1": "it's", "p$2": "0.01", "p$3": "5", "p$4": "0"},
    )
    assert filled.status_code == 302
    target = urlsplit(filled["Location"])
    assert target.path == f"/connections/{acme_pg.pk}/explain/"
    statement = parse_qs(target.query)["statement"][0]
    assert "'it''s'" in statement and "WHERE 5 > 0" in statement and "$" not in statement


def test_sessions_page_lists_sessions_and_an_admin_cancels_one_with_an_audit_event(
    acme_pg: Connection, people: People, servers: Servers
) -> None:
    other = pg_connect(servers)
    with other.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        pid = str(cur.fetchone()[0])
    page = client_for(people.carol).get(reverse("monitoring:sessions", args=[acme_pg.pk])).content.decode()
    assert f"<td>{pid}</td>" in page and "Terminate" not in page
    url = reverse("monitoring:session_action", args=[acme_pg.pk])
    assert client_for(people.bob).post(url, {"session": pid, "action": "terminate"}).status_code == 403
    client_for(people.alice).post(url, {"session": pid, "action": "terminate"})
    assert AuditEvent.objects.filter(action="monitoring.session_terminate", target=pid).exists()
    with other.cursor() as cur:
        try:
            cur.execute("SELECT 1")
            survived = True
        except Exception:  # noqa: BLE001 - the terminated session is closed
            survived = False
    assert not survived
    other.close()


def test_on_production_terminating_needs_the_typed_name(acme_pg: Connection, people: People, servers: Servers) -> None:
    acme_pg.production = True
    acme_pg.save()
    other = pg_connect(servers)
    with other.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        pid = str(cur.fetchone()[0])
    url = reverse("monitoring:session_action", args=[acme_pg.pk])
    client_for(people.alice).post(url, {"session": pid, "action": "terminate", "confirm": "wrong"})
    with other.cursor() as cur:
        cur.execute("SELECT 1")  # still alive
    assert not AuditEvent.objects.filter(action="monitoring.session_terminate").exists()
    client_for(people.alice).post(url, {"session": pid, "action": "terminate", "confirm": acme_pg.name})
    assert AuditEvent.objects.filter(action="monitoring.session_terminate", target=pid).exists()
    other.close()


def test_the_overview_puts_a_failing_collector_first(acme_pg: Connection, people: People, closed_port: int) -> None:
    broken = Connection.objects.create(
        team=people.acme,
        name="zz down",
        engine="postgresql",
        host="127.0.0.1",
        port=closed_port,
        options={"tls_mode": "disable", "connect_timeout": 1},
    )
    collect(broken.pk)
    collect(acme_pg.pk)
    html = client_for(people.carol).get(reverse("monitoring:index")).content.decode()
    assert html.index("zz down") < html.index("Acme PG")
    assert "not collecting" in html
    assert Collector.objects.get(connection=broken).failure in html


def test_an_admin_changes_the_interval_and_it_is_audited(acme_pg: Connection, people: People) -> None:
    url = reverse("monitoring:settings", args=[acme_pg.pk])
    assert client_for(people.bob).post(url, {"interval_s": "30", "enabled": "on"}).status_code == 403
    client_for(people.alice).post(url, {"interval_s": "30", "enabled": "on"})
    assert Collector.objects.get(connection=acme_pg).interval_s == 30
    assert AuditEvent.objects.filter(action="monitoring.collector_settings").exists()


def test_other_teams_statements_answer_404(acme_pg: Connection, people: People, servers: Servers, **_: Any) -> None:
    fp = collected(acme_pg, servers)
    client = client_for(people.charlie)
    assert client.get(reverse("monitoring:query", args=[acme_pg.pk, fp.pk])).status_code == 404
    assert "Acme PG" not in client.get(reverse("monitoring:index")).content.decode()
