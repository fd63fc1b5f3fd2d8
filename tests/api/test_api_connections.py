"""Connections through the API: list, read, test, and admin writes with write-only secrets."""

from __future__ import annotations

import json

from accounts.models import Role
from audit.models import AuditEvent
from connections import crypto
from connections.models import Connection
from tests.api.conftest import bearer
from tests.fixtures import People

API = "/api/v1"


def test_the_list_shows_each_person_only_their_teams_connections_with_their_role(
    acme_sqlite: Connection, people: People, tokens: dict[str, str]
) -> None:
    listed = bearer(tokens["carol"]).get(f"{API}/connections").json()
    assert [(c["name"], c["role"]) for c in listed["items"]] == [("Acme shop", "viewer")]
    assert bearer(tokens["charlie"]).get(f"{API}/connections").json()["items"] == []


def test_the_list_is_cursor_paged_by_id(acme_sqlite: Connection, people: People, tokens: dict[str, str]) -> None:
    for i in range(4):
        Connection.objects.create(team=people.acme, name=f"c{i}", engine="sqlite", database=acme_sqlite.database)
    client = bearer(tokens["alice"])
    seen, cursor = [], ""
    while True:
        page = client.get(f"{API}/connections", {"limit": 2, "cursor": cursor}).json()
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(Connection.objects.values_list("pk", flat=True))


def test_a_connection_never_shows_its_secret(acme_s3: Connection, people: People, tokens: dict[str, str]) -> None:
    response = bearer(tokens["alice"]).get(f"{API}/connections/{acme_s3.pk}")
    assert response.status_code == 200
    body = response.json()
    assert body["has_secret"] is True
    assert crypto.decrypt(acme_s3.secret_token) not in response.content.decode()
    assert "secret_token" not in body and "password" not in json.dumps(body)


def test_testing_a_connection_reports_and_audits_the_check(
    acme_sqlite: Connection, people: People, tokens: dict[str, str]
) -> None:
    response = bearer(tokens["carol"]).post(f"{API}/connections/{acme_sqlite.pk}/test")
    assert response.status_code == 200 and response.json()["ok"] is True
    event = AuditEvent.objects.get(action="connection.check")
    assert event.actor == people.carol and event.detail["via"] == "api"
    assert event.detail["token"].startswith("carol's <token>")


def test_an_admin_creates_a_connection_whose_secret_is_stored_encrypted_and_never_returned(
    acme_sqlite: Connection, people: People, tokens: dict[str, str], sqlite_file
) -> None:
    body = {
        "team": people.acme.pk,
        "name": "new <one> 'q'",
        "engine": "sqlite",
        "database": str(sqlite_file),
        "secret": "s3cr3t-value",
    }
    response = bearer(tokens["alice"]).post(f"{API}/connections", body, content_type="application/json")
    assert response.status_code == 201, response.content
    assert "s3cr3t-value" not in response.content.decode()
    saved = Connection.objects.get(name="new <one> 'q'")
    assert crypto.decrypt(saved.secret_token) == "s3cr3t-value"
    event = AuditEvent.objects.get(action="connection.create")
    assert event.detail["changes"]["secret"] == "changed" and "s3cr3t-value" not in json.dumps(event.detail)


def test_a_bad_connection_gets_the_forms_messages_as_a_problem(people: People, tokens: dict[str, str]) -> None:
    body = {"team": people.acme.pk, "name": "pg", "engine": "postgresql", "options": {"nonsense": "1"}}
    response = bearer(tokens["alice"]).post(f"{API}/connections", body, content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert "Unsupported options: nonsense" in response.json()["detail"]
    body.pop("options")
    response = bearer(tokens["alice"]).post(f"{API}/connections", body, content_type="application/json")
    assert response.status_code == 400 and "PostgreSQL needs a host." in response.json()["detail"]
    assert not Connection.objects.filter(name="pg").exists()


def test_an_admin_updates_some_fields_and_the_secret_stays_unless_given(
    acme_s3: Connection, people: People, tokens: dict[str, str]
) -> None:
    before = crypto.decrypt(acme_s3.secret_token)
    client = bearer(tokens["alice"])
    response = client.patch(
        f"{API}/connections/{acme_s3.pk}", {"name": "renamed", "production": True}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    acme_s3.refresh_from_db()
    assert (acme_s3.name, acme_s3.production, crypto.decrypt(acme_s3.secret_token)) == ("renamed", True, before)
    assert acme_s3.options["region"] == "us-east-1"
    response = client.patch(f"{API}/connections/{acme_s3.pk}", {"secret": "new"}, content_type="application/json")
    acme_s3.refresh_from_db()
    assert response.status_code == 200 and crypto.decrypt(acme_s3.secret_token) == "new"


def test_deleting_a_production_connection_needs_its_name(
    acme_sqlite: Connection, people: People, tokens: dict[str, str]
) -> None:
    Connection.objects.filter(pk=acme_sqlite.pk).update(production=True)
    client = bearer(tokens["alice"])
    response = client.delete(f"{API}/connections/{acme_sqlite.pk}")
    assert response.status_code == 400 and "type its exact name" in response.json()["detail"]
    assert client.delete(f"{API}/connections/{acme_sqlite.pk}?confirm=Acme+shop").status_code == 204
    assert not Connection.objects.filter(pk=acme_sqlite.pk).exists()
    assert AuditEvent.objects.filter(action="connection.delete", target="Acme shop").exists()


def test_viewers_and_editors_cannot_administer_connections(
    acme_sqlite: Connection, people: People, tokens: dict[str, str]
) -> None:
    for who in ("bob", "carol"):
        client = bearer(tokens[who])
        response = client.patch(f"{API}/connections/{acme_sqlite.pk}", {"name": "x"}, content_type="application/json")
        assert response.status_code == 403
        assert response.json()["detail"] == "This needs the admin role on Acme shop."
        assert client.delete(f"{API}/connections/{acme_sqlite.pk}").status_code == 403
        body = {"team": people.acme.pk, "name": "x", "engine": "sqlite"}
        response = client.post(f"{API}/connections", body, content_type="application/json")
        assert response.status_code == 403
    assert Connection.objects.get(pk=acme_sqlite.pk).name == "Acme shop"
    assert Role.ADMIN
