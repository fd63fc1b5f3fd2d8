"""The role walk for API routes: every operation in the OpenAPI document, as anonymous, another team, and each role.

Anonymous gets 401, another team's admin 404 for Acme's objects, a role below the operation's
`x-dbdeck-role` 403 with the page's message, and a role at or above it never 401 / 403 / 404.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from accounts.models import Role
from api.models import AccessToken
from connections.models import Connection
from tests.api.conftest import bearer, token_for
from tests.api.objects import Objects, make
from tests.fixtures import People, client_for

ROLES = {"alice": Role.ADMIN, "bob": Role.EDITOR, "carol": Role.VIEWER}
BODIES: dict[str, dict[str, Any]] = {
    "post /api/v1/connections": {"team": 0, "name": "n", "engine": "sqlite"},
    "post /api/v1/connections/{pk}/exports": {"ns": "main", "obj": "t"},
    "patch /api/v1/connections/{pk}": {},
    "post /api/v1/connections/{pk}/console/runs": {"text": "SELECT 1"},
    "post /api/v1/connections/{pk}/console/results/{result_pk}/export": {"format": "csv"},
    "post /api/v1/connections/{pk}/explain": {"statement": "SELECT 1"},
    "post /api/v1/connections/{pk}/index-builds": {"ns": "main", "obj": "t", "columns": ["a"]},
    "post /api/v1/connections/{pk}/index-drops": {"ns": "main", "obj": "t", "name": "t_a_idx"},
    "patch /api/v1/backups/plans/{pk}": {},
}
# How a refusal for another team's object reads, by what the path names.
NOT_THEIRS = {"No such connection.", "No such plan.", "No such run.", "No such restore-test.", "No such index job."}


def operations(objects: Objects) -> list[tuple[str, str, Role, bool, dict[str, Any] | None]]:
    """(method, url, role needed, names an Acme object, JSON body) for every operation of the API."""
    document = client_for(None).get("/api/v1/openapi.json").json()
    found = []
    for path, ops in document["paths"].items():
        for method, op in ops.items():
            url = objects.fill(path) + "?ns=main&obj=t&key=k"
            body = BODIES.get(f"{method} {path}")
            found.append((method, url, Role(op["x-dbdeck-role"]), "{pk}" in path, body))
    return found


def call(client: Any, method: str, url: str, body: dict[str, Any] | None) -> Any:
    if body is not None:
        return getattr(client, method)(url, body, content_type="application/json")
    return getattr(client, method)(url)


@pytest.fixture
def walk(acme_sqlite: Connection, people: People) -> list[tuple[str, str, Role, bool, dict[str, Any] | None]]:
    Connection.objects.filter(pk=acme_sqlite.pk).update(production=True)  # DELETE then needs the typed name
    return operations(make(acme_sqlite, people))


def test_anonymous_callers_get_401_from_every_operation(walk: list, people: People) -> None:
    for method, url, _, _, body in walk:
        response = call(bearer(None), method, url, body)
        assert response.status_code == 401, (method, url)
        assert response["Content-Type"] == "application/problem+json"


def test_another_teams_admin_gets_404_for_every_acme_object(walk: list, people: People) -> None:
    client = bearer(token_for(people.charlie))
    for method, url, _, on_acme, body in walk:
        if on_acme:
            response = call(client, method, url, body)
            assert response.status_code == 404, (method, url)
            assert response.json()["detail"] in NOT_THEIRS, (method, url)
    assert Connection.objects.filter(team=people.acme).count() == 1


@pytest.mark.parametrize("who", ["alice", "bob", "carol"])
def test_each_role_reaches_what_it_may_and_is_refused_the_rest(who: str, walk: list, people: People) -> None:
    client = bearer(token_for(getattr(people, who)))
    for method, url, need, on_acme, body in walk:
        if not on_acme and need == Role.ADMIN and who != "alice":
            continue  # team-level admin operations: checked below
        response = call(client, method, url, body)
        if ROLES[who].allows(need):
            assert response.status_code not in (401, 403), (method, url)
            if response.status_code == 404:  # alice's export or run is not bob's or carol's; the rest is
                assert response.json()["detail"] not in NOT_THEIRS - {"No such run."}, (method, url)
        else:
            assert response.status_code == 403, (method, url, response.content)
            assert response.json()["detail"].startswith(f"This needs the {need.label.lower()} role"), url
    assert Connection.objects.filter(team=people.acme, name="Acme shop").exists()


@pytest.mark.parametrize("who", ["bob", "carol"])
def test_team_level_admin_operations_refuse_editors_and_viewers(who: str, walk: list, people: People) -> None:
    client = bearer(token_for(getattr(people, who)))
    assert client.get("/api/v1/audit").json()["detail"] == "The audit log is for team admins."
    response = call(client, "post", "/api/v1/connections", {"team": people.acme.pk, "name": "n", "engine": "sqlite"})
    assert response.status_code == 403
    assert response.json()["detail"] == "Only team admins add connections. Ask an admin of your team."


def test_the_tokens_pages_send_anonymous_visitors_to_login(people: People) -> None:
    token_for(people.alice)
    pk = AccessToken.objects.get().pk
    anonymous = client_for(None)
    for response in (anonymous.get(reverse("tokens")), anonymous.post(reverse("token_revoke", args=[pk]))):
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert AccessToken.objects.get().revoked_at is None


@pytest.mark.parametrize("who", ["alice", "bob", "carol", "charlie"])
def test_every_role_reaches_its_own_tokens_page(who: str, people: People) -> None:
    assert client_for(getattr(people, who)).get(reverse("tokens")).status_code == 200
