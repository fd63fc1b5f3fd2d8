"""The API's side of the one permission helper: a token acts as its owner, narrowed.

Each request asks `connections.access.get_connection_for` for the owner's role as it is
now, then applies the token's limits: a team scope (other teams' connections answer 404,
exactly as if they did not exist) and a role ceiling (the effective role is the lower of
the two, so a token loses rights the moment its owner does). Session requests have no
token and get the owner's role unchanged.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.access import Forbidden, NotFound, teams_for
from accounts.models import Role, Team
from api.models import AccessToken
from connections.access import Access, connections_for, get_connection_for


def token_of(request: HttpRequest) -> AccessToken | None:
    return getattr(request, "api_token", None)


def lower(a: Role, b: Role | str) -> Role:
    b = Role(b)
    return a if b.allows(a) else b


def _narrow(request: HttpRequest, access: Access) -> Access | None:
    """The access as the token may use it; None when the token's team scope hides the connection."""
    token = token_of(request)
    if token is None:
        return access
    if token.team_id is not None and access.connection.team_id != token.team_id:
        return None
    return Access(access.connection, lower(access.role, token.ceiling))


def connection_for(request: HttpRequest, pk: int, need: Role = Role.VIEWER) -> Access:
    """The connection and the effective role if it is at least `need`; else NotFound or Forbidden."""
    narrowed = _narrow(request, get_connection_for(request.user, pk))
    if narrowed is None:
        raise NotFound("No such connection.")
    if not narrowed.role.allows(need):
        message = f"This needs the {Role(need).label.lower()} role on {narrowed.connection.name}."
        token = token_of(request)
        if token is not None and not Role(token.ceiling).allows(need):
            message += f" This token is limited to the {Role(token.ceiling).label.lower()} role."
        raise Forbidden(message)
    return narrowed


def visible_connections(request: HttpRequest) -> list[Access]:
    """Every connection the request may see, with the effective role on each."""
    found = (_narrow(request, access) for access in connections_for(request.user))
    return [access for access in found if access is not None]


def admin_teams(request: HttpRequest) -> QuerySet[Team]:
    """Teams the request administers (owner's role, token ceiling and scope applied)."""
    token = token_of(request)
    if token is not None and not Role(token.ceiling).allows(Role.ADMIN):
        raise Forbidden("This needs the admin role; this token is limited to the " + f"{token.ceiling} role.")
    teams = teams_for(request.user, Role.ADMIN)
    if token is not None and token.team_id is not None:
        teams = teams.filter(pk=token.team_id)
    return teams


def via(request: HttpRequest) -> dict[str, Any]:
    """What the audit trail notes about an API call: that it came through the API, and which token."""
    token = token_of(request)
    return {"via": "api", "token": f"{token.name} ({token.hint}…)" if token else "session"}
