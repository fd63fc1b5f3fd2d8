"""The one permission helper: every view, task and command asks here.

A member's role comes from their team membership; a per-connection grant
replaces it for that connection (narrowing or widening). Superusers are admins
everywhere. Anything a user may not see answers 404, so other teams' objects
are indistinguishable from missing ones.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from accounts.models import ConnectionGrant, Membership, Role, Team

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    from connections.models import Connection

    AnyUser = AbstractBaseUser | AnonymousUser


def team_role(user: AnyUser, team: Team | int) -> Role | None:
    if not user.is_authenticated:
        return None
    if user.is_superuser:
        return Role.ADMIN
    team_id = team if isinstance(team, int) else team.pk
    role = Membership.objects.filter(user=user, team_id=team_id).values_list("role", flat=True).first()
    return Role(role) if role else None


def connection_role(user: AnyUser, connection: Connection) -> Role | None:
    if not user.is_authenticated:
        return None
    if user.is_superuser:
        return Role.ADMIN
    member = team_role(user, connection.team_id)
    if member is None:
        return None
    grant = ConnectionGrant.objects.filter(user=user, connection=connection).values_list("role", flat=True).first()
    return Role(grant) if grant else member


def teams_for(user: AnyUser, need: Role = Role.VIEWER) -> QuerySet[Team]:
    if not user.is_authenticated:
        return Team.objects.none()
    if user.is_superuser:
        return Team.objects.all()
    allowed = [r for r in Role if r.allows(need)]
    return Team.objects.filter(memberships__user=user, memberships__role__in=allowed).distinct()


def get_team_for(user: AnyUser, pk: int, need: Role = Role.VIEWER) -> Team:
    role = team_role(user, pk)
    if role is None:
        raise Http404("No such team.")
    if not role.allows(need):
        raise PermissionDenied(f"This needs the {Role(need).label.lower()} role in the team.")
    try:
        return Team.objects.get(pk=pk)
    except Team.DoesNotExist:
        raise Http404("No such team.") from None


def connections_for(user: AnyUser) -> list[tuple[Connection, Role]]:
    """Every connection the user may see, with their effective role on it."""
    from connections.models import Connection

    if not user.is_authenticated:
        return []
    qs = Connection.objects.select_related("team").order_by("team__name", "name")
    if user.is_superuser:
        return [(c, Role.ADMIN) for c in qs]
    roles = dict(Membership.objects.filter(user=user).values_list("team_id", "role"))
    grants = dict(ConnectionGrant.objects.filter(user=user).values_list("connection_id", "role"))
    return [(c, Role(grants.get(c.pk, roles[c.team_id]))) for c in qs.filter(team_id__in=roles)]


def get_connection_for(user: AnyUser, pk: int, need: Role = Role.VIEWER) -> Connection:
    """Return the connection if `user` holds at least `need` on it, else raise 404."""
    from connections.models import Connection

    try:
        connection = Connection.objects.select_related("team").get(pk=pk)
    except Connection.DoesNotExist:
        raise Http404("No such connection.") from None
    role = connection_role(user, connection)
    if role is None:
        raise Http404("No such connection.")
    if not role.allows(need):
        # They can see it, so saying "not allowed" leaks nothing and says what to ask for.
        raise PermissionDenied(f"This needs the {Role(need).label.lower()} role on {connection.name}.")
    connection.role = role  # type: ignore[attr-defined]
    return connection
