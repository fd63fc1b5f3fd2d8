"""Per-connection grants live in the connections app, on the table accounts made: no row moved, none lost."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.db import connection as db
from django.db.migrations.executor import MigrationExecutor

from accounts.models import Membership, Role
from connections.access import get_connection_for
from connections.models import Connection, ConnectionGrant
from tests.fixtures import People

BEFORE_THE_MOVE = [("accounts", "0003_oidc_identity"), ("connections", "0001_initial")]


def test_the_grant_model_belongs_to_connections_and_keeps_its_table() -> None:
    assert ConnectionGrant._meta.app_label == "connections"
    assert ConnectionGrant._meta.db_table == "accounts_connectiongrant"
    assert [c.name for c in ConnectionGrant._meta.constraints] == ["one_grant_per_connection"]


@pytest.mark.django_db(transaction=True)
def test_grants_made_before_the_move_are_read_after_it() -> None:
    executor = MigrationExecutor(db)
    executor.migrate(BEFORE_THE_MOVE)
    old = executor.loader.project_state(BEFORE_THE_MOVE).apps
    user = old.get_model("auth", "User").objects.create(username="dana")
    team = old.get_model("accounts", "Team").objects.create(name="Initech")
    old.get_model("accounts", "Membership").objects.create(user=user, team=team, role="viewer")
    conn = old.get_model("connections", "Connection").objects.create(
        team=team, name="ledger", engine="postgresql", host="127.0.0.1"
    )
    old.get_model("accounts", "ConnectionGrant").objects.create(user=user, connection=conn, role="admin")
    # The content type as an existing installation has it (admin permissions and log entries point at it).
    content_type = ContentType.objects.get_or_create(app_label="accounts", model="connectiongrant")[0]

    executor = MigrationExecutor(db)
    executor.migrate(executor.loader.graph.leaf_nodes())

    grants = ConnectionGrant.objects.values_list("user__username", "connection__name", "role")
    assert list(grants) == [("dana", "ledger", "admin")]
    assert get_connection_for(User.objects.get(username="dana"), conn.pk).role == Role.ADMIN
    content_type.refresh_from_db()
    assert content_type.app_label == "connections"


def test_leaving_a_team_drops_the_grants_on_its_connections_only(acme_sqlite: Connection, people: People) -> None:
    globex = Connection.objects.create(team=people.globex, name="Globex db", engine="postgresql", host="127.0.0.1")
    Membership.objects.create(user=people.carol, team=people.globex, role=Role.VIEWER)
    ConnectionGrant.objects.create(user=people.carol, connection=acme_sqlite, role=Role.ADMIN)
    ConnectionGrant.objects.create(user=people.carol, connection=globex, role=Role.EDITOR)

    Membership.objects.filter(user=people.carol, team=people.acme).delete()

    assert list(ConnectionGrant.objects.values_list("connection__name", flat=True)) == ["Globex db"]
    Membership.objects.create(user=people.carol, team=people.acme, role=Role.VIEWER)
    assert get_connection_for(people.carol, acme_sqlite.pk).role == Role.VIEWER  # the old grant stays gone


def test_an_sso_sync_that_removes_a_membership_drops_its_grants(acme_sqlite: Connection, people: People) -> None:
    from accounts.oidc_teams import sync_memberships

    ConnectionGrant.objects.create(user=people.carol, connection=acme_sqlite, role=Role.ADMIN)
    sync_memberships(people.carol, set(), {"staff": [("Acme", Role.VIEWER)]})
    assert not Membership.objects.filter(user=people.carol, team=people.acme).exists()
    assert not ConnectionGrant.objects.exists()
