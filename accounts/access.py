"""Access at the team level, and the errors every permission check raises.

A member's role comes from their team membership. Superusers are admins
everywhere; inactive users have no role anywhere. Anything a user may not see
raises `NotFound`, so other teams' objects are indistinguishable from missing
ones; what they may see but not do raises `Forbidden`. The per-connection
helper, `connections.access.get_connection_for`, builds on `team_role` here.

Nothing here knows about HTTP: views answer 404 / 403 (accounts.middleware),
tasks record the job as failed because access was removed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from accounts.models import Membership, Role, Team

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

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


def has_roles(user: AnyUser) -> bool:
    """Whether the user can hold a role at all: signed in and active."""
    return bool(user.is_authenticated and getattr(user, "is_active", True))


def team_role(user: AnyUser, team: Team | int) -> Role | None:
    if not has_roles(user):
        return None
    if user.is_superuser:
        return Role.ADMIN
    team_id = team if isinstance(team, int) else team.pk
    role = Membership.objects.filter(user=user, team_id=team_id).values_list("role", flat=True).first()
    return Role(role) if role else None


def teams_for(user: AnyUser, need: Role = Role.VIEWER) -> QuerySet[Team]:
    if not has_roles(user):
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
