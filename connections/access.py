"""The one permission helper for connections: every view, task and command asks here.

A member's role on a connection is their team role, unless a per-connection grant
replaces it (narrowing or widening). The answer is the connection and the role
together; the errors are the access core's (accounts.access), never HTTP's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from accounts.access import Forbidden, NotFound, has_roles, team_role
from accounts.models import Membership, Role
from connections.models import Connection, ConnectionGrant

if TYPE_CHECKING:
    from accounts.access import AnyUser


class Access(NamedTuple):
    """A connection and the user's effective role on it, as the helper found them together."""

    connection: Connection
    role: Role

    @property
    def can_write(self) -> bool:
        return self.role.allows(Role.EDITOR)


def connection_role(user: AnyUser, connection: Connection) -> Role | None:
    if not has_roles(user):
        return None
    if user.is_superuser:
        return Role.ADMIN
    member = team_role(user, connection.team_id)
    if member is None:
        return None
    grant = ConnectionGrant.objects.filter(user=user, connection=connection).values_list("role", flat=True).first()
    return Role(grant) if grant else member


def connections_for(user: AnyUser) -> list[Access]:
    """Every connection the user may see, with their effective role on it."""
    if not has_roles(user):
        return []
    qs = Connection.objects.select_related("team").order_by("team__name", "name")
    if user.is_superuser:
        return [Access(c, Role.ADMIN) for c in qs]
    roles = dict(Membership.objects.filter(user=user).values_list("team_id", "role"))
    grants = dict(ConnectionGrant.objects.filter(user=user).values_list("connection_id", "role"))
    return [Access(c, Role(grants.get(c.pk, roles[c.team_id]))) for c in qs.filter(team_id__in=roles)]


def get_connection_for(user: AnyUser, pk: int, need: Role = Role.VIEWER) -> Access:
    """The connection and the user's role on it if that role is at least `need`; else NotFound or Forbidden."""
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
