"""The permission helper hands back the connection and the role together, and its errors are not HTTP's."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import RequestFactory
from django.urls import reverse

from accounts.access import AccessDenied, Forbidden, NotFound, get_team_for
from accounts.middleware import AccessDeniedMiddleware
from accounts.models import Role
from connections.access import Access, get_connection_for
from connections.models import Connection
from tests.fixtures import People, client_for


def test_it_returns_the_connection_and_the_role_together(acme_sqlite: Connection, people: People) -> None:
    access = get_connection_for(people.bob, acme_sqlite.pk)
    assert isinstance(access, Access)
    connection, role = access
    assert (connection.pk, role) == (acme_sqlite.pk, Role.EDITOR)
    assert access.connection is connection and access.role is role
    assert access.can_write and not get_connection_for(people.carol, acme_sqlite.pk).can_write


def test_it_sticks_nothing_onto_the_connection(acme_sqlite: Connection, people: People) -> None:
    connection = get_connection_for(people.alice, acme_sqlite.pk).connection
    assert "role" not in vars(connection)
    with pytest.raises(AttributeError):
        connection.role  # noqa: B018


def test_the_answer_cannot_be_changed_afterwards(acme_sqlite: Connection, people: People) -> None:
    access = get_connection_for(people.carol, acme_sqlite.pk)
    with pytest.raises(AttributeError):
        access.role = Role.ADMIN  # type: ignore[misc]


@pytest.mark.parametrize("who", ["charlie", "nobody"])
def test_a_foreign_or_missing_connection_raises_not_found_which_is_no_http_error(
    who: str, acme_sqlite: Connection, people: People
) -> None:
    pk = acme_sqlite.pk if who == "charlie" else 999_999
    with pytest.raises(NotFound) as info:
        get_connection_for(people.charlie, pk)
    assert info.value.not_found and str(info.value) == "No such connection."
    assert not isinstance(info.value, Http404 | PermissionDenied)


def test_a_role_too_low_raises_forbidden_naming_the_role_needed(acme_sqlite: Connection, people: People) -> None:
    with pytest.raises(Forbidden, match="needs the admin role on Acme shop") as info:
        get_connection_for(people.bob, acme_sqlite.pk, need=Role.ADMIN)
    assert isinstance(info.value, AccessDenied) and not info.value.not_found
    assert not isinstance(info.value, Http404 | PermissionDenied)


def test_teams_answer_the_same_way(people: People) -> None:
    with pytest.raises(NotFound):
        get_team_for(people.charlie, people.acme.pk)
    with pytest.raises(Forbidden):
        get_team_for(people.carol, people.acme.pk, need=Role.ADMIN)
    assert get_team_for(people.alice, people.acme.pk, need=Role.ADMIN) == people.acme


def test_an_inactive_user_has_no_role_anywhere(acme_sqlite: Connection, people: People) -> None:
    people.alice.is_active = False
    people.alice.save()
    with pytest.raises(NotFound):
        get_connection_for(people.alice, acme_sqlite.pk)
    with pytest.raises(NotFound):
        get_team_for(people.alice, people.acme.pk)


def test_the_middleware_answers_not_found_with_404_and_forbidden_with_403(people: People) -> None:
    middleware = AccessDeniedMiddleware(lambda request: None)  # type: ignore[arg-type,return-value]
    request: Any = RequestFactory().get("/")
    request.user = people.carol
    assert middleware.process_exception(request, NotFound("No such connection.")).status_code == 404
    forbidden = middleware.process_exception(request, Forbidden("This needs the admin role on x."))
    assert forbidden.status_code == 403 and b"This needs the admin role on x." in forbidden.content
    assert middleware.process_exception(request, ValueError("not ours")) is None


def test_views_answer_the_helpers_errors_with_404_and_403(acme_sqlite: Connection, people: People) -> None:
    edit = reverse("connections:edit", args=[acme_sqlite.pk])
    assert client_for(people.charlie).get(edit).status_code == 404
    response = client_for(people.carol).get(edit)
    assert response.status_code == 403 and "needs the admin role on Acme shop" in response.content.decode()
    grid = reverse("explorer:browse", args=[acme_sqlite.pk])
    assert client_for(people.charlie).get(grid).status_code == 404
