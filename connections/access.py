"""The one permission helper for connections: every view, task and command asks here.

A member's role on a connection is their team role, unless a per-connection grant
replaces it (narrowing or widening). The answer is the connection and the role
together; the errors are the access core's (accounts.access), never HTTP's.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any, NamedTuple

from accounts.access import Forbidden, NotFound, has_roles, team_role
from accounts.models import Membership, Role, Team
from config.plainsql import PlainRows
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


@cache
def _with_roles() -> tuple[PlainRows[Connection], PlainRows[Team], str]:
    """Connections with their team and the user's membership and grant roles, in one statement.

    The pages ask this on every request; written once here, it skips the query compiler
    (three ORM queries cost about 1 ms, this statement a tenth of that).
    """
    conns, teams = PlainRows(Connection), PlainRows(Team)
    members, grants = PlainRows(Membership), PlainRows(ConnectionGrant)
    sql = (
        f"SELECT {conns.columns('c')}, {teams.columns('t')},"
        f" {members.column('m', 'role')}, {grants.column('g', 'role')}"
        f" FROM {conns.table} c"
        f" INNER JOIN {teams.table} t ON t.{teams.qn('id')} = {conns.column('c', 'team')}"
        f" LEFT JOIN {members.table} m ON {members.column('m', 'team')} = {conns.column('c', 'team')}"
        f" AND {members.column('m', 'user')} = %s"
        f" LEFT JOIN {grants.table} g ON {grants.column('g', 'connection')} = c.{conns.qn('id')}"
        f" AND {grants.column('g', 'user')} = %s"
    )
    return conns, teams, sql


def _accesses(user: AnyUser, where: str, params: list[Any], order: str = "") -> list[Access]:
    conns, teams, sql = _with_roles()
    found = []
    for row in conns.fetch(f"{sql} WHERE {where}{order}", [user.pk, user.pk, *params]):
        connection = conns.build(row)
        connection._state.fields_cache["team"] = teams.build(row[conns.width :])
        member, grant = row[-2], row[-1]
        if user.is_superuser:
            found.append(Access(connection, Role.ADMIN))
        elif member is not None:
            found.append(Access(connection, Role(grant or member)))
    return found


def connections_for(user: AnyUser) -> list[Access]:
    """Every connection the user may see, with their effective role on it."""
    if not has_roles(user):
        return []
    conns, teams, _ = _with_roles()
    order = f" ORDER BY {teams.column('t', 'name')}, {conns.column('c', 'name')}, c.{conns.qn('id')}"
    if user.is_superuser:
        return _accesses(user, "1 = 1", [], order)
    return _accesses(user, f"{PlainRows(Membership).column('m', 'role')} IS NOT NULL", [], order)


def get_connection_for(user: AnyUser, pk: int, need: Role = Role.VIEWER) -> Access:
    """The connection and the user's role on it if that role is at least `need`; else NotFound or Forbidden."""
    if not has_roles(user):
        raise NotFound("No such connection.")
    conns, _, _ = _with_roles()
    found = _accesses(user, f"c.{conns.qn('id')} = %s", [pk])
    if not found:
        raise NotFound("No such connection.")
    connection, role = found[0]
    if not role.allows(need):
        raise Forbidden(f"This needs the {Role(need).label.lower()} role on {connection.name}.")
    return Access(connection, role)
