"""Adding, editing, testing and deleting connections through the pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.urls import reverse

from audit.models import AuditEvent
from connections.models import Connection
from tests.fixtures import People, client_for
from tests.services import Servers

HOSTILE = "q'u\"o`te]; DROP TABLE x; -- <script>alert(1)</script> 名前 🚀"


def form_data(**overrides: Any) -> dict[str, Any]:
    data = {
        "name": "Warehouse",
        "engine": "postgresql",
        "host": "127.0.0.1",
        "port": "5432",
        "database": "app",
        "username": "app",
        "secret": "",
        "tls_mode": "disable",
        "connect_timeout": "5",
        "statement_timeout": "30",
        "region": "",
        "addressing_style": "path",
        "auth_source": "",
        "replica_set": "",
        "readonly_username": "",
        "readonly_secret": "",
    }
    data.update(overrides)
    return data


def pg_form(servers: Servers, people: People, **overrides: Any) -> dict[str, Any]:
    pg = servers.postgresql
    fields = {
        "team": people.acme.pk,
        "host": pg.host,
        "port": str(pg.port),
        "database": pg.database,
        "username": pg.username,
        "secret": pg.password,
    }
    return form_data(**{**fields, **overrides})


def test_an_admin_adds_a_connection_and_it_is_audited(people: People, servers: Servers) -> None:
    response = client_for(people.alice).post(reverse("connections:create"), pg_form(servers, people))
    conn = Connection.objects.get(name="Warehouse")
    assert response.status_code == 302 and response["Location"] == conn.get_absolute_url()
    assert conn.params().password == servers.postgresql.password
    event = AuditEvent.objects.get(action="connection.create")
    assert event.actor == people.alice and event.connection == conn
    assert servers.postgresql.password not in str(event.detail)


def test_test_connection_on_the_form_answers_in_place_without_saving(people: People, servers: Servers) -> None:
    response = client_for(people.alice).post(
        reverse("connections:create"), {**pg_form(servers, people), "_test": "1"}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Connected" in body and "15." in body and "ms" in body
    assert "<html" not in body  # only the partial
    assert not Connection.objects.exists()


def test_test_connection_reports_a_wrong_password(people: People, servers: Servers) -> None:
    response = client_for(people.alice).post(
        reverse("connections:create"),
        {**pg_form(servers, people, secret="wrong-Pa55"), "_test": "1"},
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert "✗" in body and "password" in body.lower()
    assert "wrong-Pa55" not in body


def test_test_connection_works_without_javascript(people: People, servers: Servers) -> None:
    response = client_for(people.alice).post(reverse("connections:create"), {**pg_form(servers, people), "_test": "1"})
    assert response.status_code == 200
    assert b"<html" in response.content and b"Connected" in response.content


def test_a_saved_connection_is_checked_from_its_page_and_the_result_kept(people: People, servers: Servers) -> None:
    client_for(people.alice).post(reverse("connections:create"), pg_form(servers, people))
    conn = Connection.objects.get()
    response = client_for(people.carol).post(reverse("connections:test", args=[conn.pk]), HTTP_HX_REQUEST="true")
    assert "✓" in response.content.decode()
    conn.refresh_from_db()
    assert conn.last_check_ok is True and "ms" in conn.last_check_message
    listing = client_for(people.carol).get(reverse("connections:list")).content.decode()
    assert conn.last_check_message in listing


def test_an_unreachable_host_is_reported_quickly(people: People, closed_port: int) -> None:
    response = client_for(people.alice).post(
        reverse("connections:create"),
        {**form_data(team=people.acme.pk, port=str(closed_port), connect_timeout="2"), "_test": "1"},
        HTTP_HX_REQUEST="true",
    )
    assert "✗" in response.content.decode()
    assert "reach" in response.content.decode().lower()


def test_editing_with_a_blank_password_keeps_the_saved_one(people: People, servers: Servers) -> None:
    client = client_for(people.alice)
    client.post(reverse("connections:create"), pg_form(servers, people))
    conn = Connection.objects.get()
    client.post(reverse("connections:edit", args=[conn.pk]), pg_form(servers, people, secret="", name="Renamed"))
    conn.refresh_from_db()
    assert conn.name == "Renamed" and conn.params().password == servers.postgresql.password
    event = AuditEvent.objects.get(action="connection.update")
    assert event.detail["changes"]["name"] == "Renamed" and "secret" not in event.detail["changes"]


def test_the_password_can_be_removed(people: People, servers: Servers) -> None:
    client = client_for(people.alice)
    client.post(reverse("connections:create"), pg_form(servers, people))
    conn = Connection.objects.get()
    client.post(reverse("connections:edit", args=[conn.pk]), pg_form(servers, people, secret="", clear_secret="on"))
    conn.refresh_from_db()
    assert not conn.has_secret


def test_hostile_names_are_saved_intact_and_render_as_text(people: People, sqlite_file: Path) -> None:
    client = client_for(people.alice)
    response = client.post(
        reverse("connections:create"),
        form_data(
            team=people.acme.pk, name=HOSTILE, engine="sqlite", host="", port="", database=str(sqlite_file), username=""
        ),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    conn = Connection.objects.get()
    assert conn.name == HOSTILE
    for url in (reverse("connections:list"), conn.get_absolute_url(), reverse("connections:edit", args=[conn.pk])):
        body = client.get(url).content.decode()
        assert "<script>alert(1)</script>" not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_a_nul_byte_in_a_name_is_refused_with_a_message(people: People) -> None:
    response = client_for(people.alice).post(
        reverse("connections:create"), form_data(team=people.acme.pk, name="bad\x00name", database="db\x00")
    )
    assert response.status_code == 200
    assert not Connection.objects.exists()
    assert b"NUL" in response.content or b"Null characters" in response.content


def test_engine_specific_requirements_are_explained(people: People) -> None:
    response = client_for(people.alice).post(reverse("connections:create"), form_data(team=people.acme.pk, host=""))
    assert b"needs a host" in response.content
    response = client_for(people.alice).post(
        reverse("connections:create"), form_data(team=people.acme.pk, engine="redis", database="zero")
    )
    assert b"Redis database is a number" in response.content


def test_admins_can_only_add_connections_to_their_own_teams(people: People, servers: Servers) -> None:
    client_for(people.alice).post(reverse("connections:create"), {**pg_form(servers, people), "team": people.globex.pk})
    assert not Connection.objects.exists()


def test_deleting_a_production_connection_needs_its_typed_name(people: People, acme_sqlite: Connection) -> None:
    acme_sqlite.production = True
    acme_sqlite.save()
    client = client_for(people.alice)
    url = reverse("connections:delete", args=[acme_sqlite.pk])
    response = client.post(url, {"confirm": "nope"})
    assert response.status_code == 200 and b"type its exact name" in response.content
    assert Connection.objects.filter(pk=acme_sqlite.pk).exists()
    client.post(url, {"confirm": acme_sqlite.name})
    assert not Connection.objects.filter(pk=acme_sqlite.pk).exists()
    assert AuditEvent.objects.filter(action="connection.delete", target=acme_sqlite.name).exists()


def test_the_list_groups_connections_by_team_with_a_production_badge(people: People, acme_sqlite: Connection) -> None:
    acme_sqlite.production = True
    acme_sqlite.save()
    body = client_for(people.carol).get(reverse("connections:list")).content.decode()
    assert "Acme" in body and "production" in body and "SQLite" in body
