"""The one permission helper: every view, task and command asks here.

A member's role comes from their team membership; a per-connection grant
replaces it for that connection (narrowing or widening). Superusers are admins
everywhere; inactive users have no role anywhere. Anything a user may not see
raises `NotFound`, so other teams' objects are indistinguishable from missing
ones; what they may see but not do raises `Forbidden`.

Nothing here knows about HTTP: views answer 404 / 403 (accounts.middleware),
tasks record the job as failed because access was removed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from django.db.models import QuerySet

from accounts.models import ConnectionGrant, Membership, Role, Team

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    from connections.models import Connection

    AnyUser = AbstractBaseUser | AnonymousUser


class AccessDenied(Exception):
    """The user may not reach this object; `not_found` says to answer as if it did not exist."""

    not_found: bool = True

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(AccessDenied):
    """Missing, or not theirs to see: the two look the same."""

    not_found = True


class Forbidden(AccessDenied):
    """They can see it, so saying "not allowed" leaks nothing and says which role to ask for."""

    not_found = False


class Access(NamedTuple):
    """A connection and the user's effective role on it, as the helper found them together."""

    connection: Connection
    role: Role

    @property
    def can_write(self) -> bool:
        return self.role.allows(Role.EDITOR)


def _has_roles(user: AnyUser) -> bool:
    return bool(user.is_authenticated and getattr(user, "is_active", True))


def team_role(user: AnyUser, team: Team | int) -> Role | None:
    if not _has_roles(user):
        return None
    if user.is_superuser:
        return Role.ADMIN
    team_id = team if isinstance(team, int) else team.pk
    role = Membership.objects.filter(user=user, team_id=team_id).values_list("role", flat=True).first()
    return Role(role) if role else None


def connection_role(user: AnyUser, connection: Connection) -> Role | None:
    if not _has_roles(user):
        return None
    if user.is_superuser:
        return Role.ADMIN
    member = team_role(user, connection.team_id)
    if member is None:
        return None
    grant = ConnectionGrant.objects.filter(user=user, connection=connection).values_list("role", flat=True).first()
    return Role(grant) if grant else member


def teams_for(user: AnyUser, need: Role = Role.VIEWER) -> QuerySet[Team]:
    if not _has_roles(user):
        return Team.objects.none()
    if user.is_superuser:
        return Team.objects.all()
    allowed = [r for r in Role if r.allows(need)]
    return Team.objects.filter(memberships__user=user, memberships__role__in=allowed).distinct()


def get_team_for(user: AnyUser, pk: int, need: Role = Role.VIEWER) -> Team:
    """Return the team if `user` holds at least `need` in it; else raise NotFound or Forbidden."""
    role = team_role(user, pk)
    if role is None:
        raise NotFound("No such team.")
    if not role.allows(need):
        raise Forbidden(f"This needs the {Role(need).label.lower()} role in the team.")
    try:
        return Team.objects.get(pk=pk)
    except Team.DoesNotExist:
        raise NotFound("No such team.") from None


def connections_for(user: AnyUser) -> list[Access]:
    """Every connection the user may see, with their effective role on it."""
    from connections.models import Connection

    if not _has_roles(user):
        return []
    qs = Connection.objects.select_related("team").order_by("team__name", "name")
    if user.is_superuser:
        return [Access(c, Role.ADMIN) for c in qs]
    roles = dict(Membership.objects.filter(user=user).values_list("team_id", "role"))
    grants = dict(ConnectionGrant.objects.filter(user=user).values_list("connection_id", "role"))
    return [Access(c, Role(grants.get(c.pk, roles[c.team_id]))) for c in qs.filter(team_id__in=roles)]


def get_connection_for(user: AnyUser, pk: int, need: Role = Role.VIEWER) -> Access:
    """The connection and the user's role on it if that role is at least `need`; else NotFound or Forbidden."""
    from connections.models import Connection

    try:
        connection = Connection.objects.select_related("team").get(pk=pk)
    except Connection.DoesNotExist:
        raise NotFound("No such connection.") from None
    role = connection_role(user, connection)
    if role is None:
        raise NotFound("No such connection.")
    if not role.allows(need):
        raise Forbidden(f"This needs the {Role(need).label.lower()} role on {connection.name}.")
    return Access(connection, role)
