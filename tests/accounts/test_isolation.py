"""A per-connection grant reaches that one connection and nothing else; moving is its own action.

The attack: charlie administers Globex, is only a viewer in Acme, and holds an
admin grant on one Acme connection. Everything that grant allows is walked;
none of it may touch Acme's other connections, its members, its audit trail,
or take the connection out of Acme.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from accounts.models import Membership, Role, Team
from audit.models import AuditEvent
from audit.record import record
from connections.models import Connection, ConnectionGrant
from tests.fixtures import People, client_for

FORM = {"engine": "postgresql", "host": "127.0.0.1", "port": "5432", "database": "app", "username": "u"}
FORM_OPTIONS = {"tls_mode": "prefer", "connect_timeout": "5", "statement_timeout": "30"}


@pytest.fixture
def granted(people: People) -> Connection:
    """An Acme connection on which charlie, an Acme viewer, holds an admin grant."""
    Membership.objects.create(user=people.charlie, team=people.acme, role=Role.VIEWER)
    conn = Connection.objects.create(team=people.acme, name="Acme granted", engine="postgresql", host="127.0.0.1")
    ConnectionGrant.objects.create(user=people.charlie, connection=conn, role=Role.ADMIN)
    return conn


@pytest.fixture
def other(people: People) -> Connection:
    return Connection.objects.create(team=people.acme, name="Acme other", engine="postgresql", host="127.0.0.1")


def test_editing_with_a_team_field_posted_leaves_the_connection_in_its_team(
    granted: Connection, people: People
) -> None:
    client = client_for(people.charlie)
    data = {**FORM, **FORM_OPTIONS, "name": "Acme granted", "team": people.globex.pk}
    response = client.post(reverse("connections:edit", args=[granted.pk]), data)
    assert response.status_code == 302
    granted.refresh_from_db()
    assert granted.team == people.acme and granted.database == "app"  # the edit itself went through


def test_the_model_refuses_a_team_change_outside_move_to(granted: Connection, people: People) -> None:
    granted.team = people.globex
    with pytest.raises(ValidationError, match="Move page"):
        granted.save()
    assert Connection.objects.get(pk=granted.pk).team == people.acme


def test_a_connection_grant_cannot_move_the_connection(granted: Connection, people: People) -> None:
    client = client_for(people.charlie)
    url = reverse("connections:move", args=[granted.pk])
    assert client.get(url).status_code == 403
    response = client.post(url, {"team": people.globex.pk, "confirm": granted.name})
    assert response.status_code == 403
    assert Connection.objects.get(pk=granted.pk).team == people.acme
    with pytest.raises(PermissionDenied):
        granted.move_to(people.globex, by=people.charlie)
    assert Connection.objects.get(pk=granted.pk).team == people.acme
    assert not AuditEvent.objects.filter(action="connection.move").exists()


def test_a_connection_grant_reaches_no_other_connection_of_the_team(
    granted: Connection, other: Connection, people: People
) -> None:
    client = client_for(people.charlie)
    # As an Acme viewer charlie may look at the other connection, and nothing more.
    assert client.get(reverse("connections:detail", args=[other.pk])).status_code == 200
    for name in ("connections:edit", "connections:delete", "connections:move"):
        assert client.get(reverse(name, args=[other.pk])).status_code == 403, name
    posts = [
        ("connections:edit", {**FORM, **FORM_OPTIONS, "name": "hijacked"}),
        ("connections:delete", {"confirm": other.name}),
        ("connections:move", {"team": people.globex.pk, "confirm": other.name}),
        ("connections:grant", {"username": "charlie", "role": "admin"}),
    ]
    for name, data in posts:
        assert client.post(reverse(name, args=[other.pk]), data).status_code == 403, name
    other.refresh_from_db()
    assert (other.name, other.team, other.host) == ("Acme other", people.acme, "127.0.0.1")
    assert not ConnectionGrant.objects.filter(connection=other).exists()


def test_a_connection_grant_cannot_create_connections_in_the_team(granted: Connection, people: People) -> None:
    client = client_for(people.charlie)
    data = {**FORM, **FORM_OPTIONS, "name": "planted", "team": people.acme.pk}
    response = client.post(reverse("connections:create"), data)
    assert response.status_code == 200 and "team" in response.context["form"].errors
    assert not Connection.objects.filter(name="planted").exists()
    assert list(people.acme.connections.order_by("name").values_list("name", flat=True)) == ["Acme granted"]


def test_a_connection_grant_leaves_the_teams_members_unchanged(granted: Connection, people: People) -> None:
    client = client_for(people.charlie)
    before = sorted(Membership.objects.filter(team=people.acme).values_list("user__username", "role"))
    carol = Membership.objects.get(user=people.carol, team=people.acme)
    acme = people.acme.pk
    posts = [
        (reverse("accounts:member_add", args=[acme]), {"username": "charlie", "role": "admin"}),
        (reverse("accounts:member_role", args=[acme, carol.pk]), {"role": "admin"}),
        (reverse("accounts:member_remove", args=[acme, carol.pk]), {}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url
    assert sorted(Membership.objects.filter(team=people.acme).values_list("user__username", "role")) == before
    page = client.get(reverse("accounts:team", args=[acme])).content.decode()
    assert reverse("accounts:member_add", args=[acme]) not in page


def test_a_connection_grant_can_only_grant_on_its_own_connection_and_to_team_members(
    granted: Connection, people: People
) -> None:
    client = client_for(people.charlie)
    url = reverse("connections:grant", args=[granted.pk])
    client.post(url, {"username": "carol", "role": "editor"})
    assert ConnectionGrant.objects.get(user=people.carol).connection == granted
    globex_only = type(people.alice).objects.create_user("gina")
    Membership.objects.create(user=globex_only, team=people.globex, role=Role.VIEWER)
    client.post(url, {"username": "gina", "role": "admin"})
    assert not ConnectionGrant.objects.filter(user=globex_only).exists()


def test_a_connection_grant_does_not_open_the_teams_audit_trail(
    granted: Connection, other: Connection, people: People
) -> None:
    record("query.run", actor=people.alice, connection=other, target="SECRET-OTHER-QUERY")
    record("query.run", actor=people.alice, connection=granted, target="SECRET-GRANTED-QUERY")
    record("member.add", actor=people.charlie, team=people.globex, target="GLOBEX-OWN-EVENT")
    page = client_for(people.charlie).get(reverse("audit:list")).content.decode()
    assert "GLOBEX-OWN-EVENT" in page
    assert "SECRET-OTHER-QUERY" not in page and "SECRET-GRANTED-QUERY" not in page


@pytest.fixture
def alice_in_globex(people: People) -> Membership:
    return Membership.objects.create(user=people.alice, team=people.globex, role=Role.ADMIN)


def test_an_admin_of_both_teams_moves_a_connection_after_typing_its_name(
    granted: Connection, people: People, alice_in_globex: Membership
) -> None:
    ConnectionGrant.objects.create(user=people.bob, connection=granted, role=Role.VIEWER)
    client = client_for(people.alice)
    url = reverse("connections:move", args=[granted.pk])
    assert client.post(url, {"team": people.globex.pk, "confirm": "acme granted"}).status_code == 200
    assert Connection.objects.get(pk=granted.pk).team == people.acme

    response = client.post(url, {"team": people.globex.pk, "confirm": granted.name})
    assert response.status_code == 302
    assert Connection.objects.get(pk=granted.pk).team == people.globex
    # charlie is a Globex member, so his grant still means something; bob is not, so his goes.
    assert list(ConnectionGrant.objects.filter(connection=granted).values_list("user__username", flat=True)) == [
        "charlie"
    ]
    events = AuditEvent.objects.filter(action="connection.move")
    assert sorted(e.team.name for e in events) == ["Acme", "Globex"]
    assert all(e.detail["grants_removed"] == ["bob"] and e.actor == people.alice for e in events)


def test_a_move_shows_in_both_teams_audit_trails(
    granted: Connection, people: People, alice_in_globex: Membership
) -> None:
    client_for(people.alice).post(
        reverse("connections:move", args=[granted.pk]), {"team": people.globex.pk, "confirm": granted.name}
    )
    for admin in (people.alice, people.charlie):
        events = client_for(admin).get(reverse("audit:list")).context["events"]
        moves = [e for e in events if e.action == "connection.move"]
        assert moves, admin.username
    acme_only = type(people.alice).objects.create_user("ada")
    Membership.objects.create(user=acme_only, team=people.acme, role=Role.ADMIN)
    events = client_for(acme_only).get(reverse("audit:list")).context["events"]
    assert [e.team.name for e in events if e.action == "connection.move"] == ["Acme"]


def test_moving_needs_admin_in_the_destination_team(granted: Connection, people: People) -> None:
    Membership.objects.create(user=people.alice, team=people.globex, role=Role.EDITOR)
    client = client_for(people.alice)
    response = client.post(
        reverse("connections:move", args=[granted.pk]), {"team": people.globex.pk, "confirm": granted.name}
    )
    assert response.status_code == 200 and "team" in response.context["form"].errors
    with pytest.raises(PermissionDenied):
        granted.move_to(people.globex, by=people.alice)
    assert Connection.objects.get(pk=granted.pk).team == people.acme


def test_a_move_onto_a_taken_name_is_refused_with_a_message(
    granted: Connection, people: People, alice_in_globex: Membership
) -> None:
    Connection.objects.create(team=people.globex, name=granted.name, engine="postgresql", host="127.0.0.1")
    response = client_for(people.alice).post(
        reverse("connections:move", args=[granted.pk]), {"team": people.globex.pk, "confirm": granted.name}
    )
    assert "already has a connection named" in response.content.decode()
    assert Connection.objects.get(pk=granted.pk).team == people.acme


def test_a_sqlite_connection_cannot_be_moved_away_from_its_teams_folder(
    acme_sqlite: Connection, people: People, alice_in_globex: Membership
) -> None:
    response = client_for(people.alice).post(
        reverse("connections:move", args=[acme_sqlite.pk]), {"team": people.globex.pk, "confirm": acme_sqlite.name}
    )
    assert "must live under" in response.content.decode()
    assert Connection.objects.get(pk=acme_sqlite.pk).team == people.acme
    assert not AuditEvent.objects.filter(action="connection.move").exists()


def test_the_move_page_offers_only_teams_the_user_administers(
    granted: Connection, people: People, alice_in_globex: Membership, sqlite_root: Path
) -> None:
    Team.objects.create(name="Initech")
    page = client_for(people.alice).get(reverse("connections:move", args=[granted.pk]))
    choices = [str(team) for team in page.context["form"].fields["team"].queryset]
    assert choices == ["Globex"]
