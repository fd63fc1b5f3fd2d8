"""The audit trail of the teams you administer, newest first, keyset-paged by id."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from accounts.access import Forbidden
from accounts.models import Role
from api import access, cursors
from api.responses import answers, needs
from api.schemas import AuditList
from audit.models import AuditEvent

router = Router(tags=["audit"])


class AuditQuery(Schema):
    action: str = Field("", max_length=64, description="Only actions starting with this (e.g. data.).")
    cursor: str = Field("", description="next_cursor of the previous page.")
    limit: int = Field(100, ge=1, le=500)


@router.get("", response=answers(AuditList), openapi_extra=needs(Role.ADMIN))
def audit_list(request: HttpRequest, query: Query[AuditQuery]) -> dict[str, Any]:
    teams = access.admin_teams(request)
    if not teams.exists():
        raise Forbidden("The audit log is for team admins.")
    events = AuditEvent.objects.select_related("team").order_by("-id")
    token = access.token_of(request)
    if not request.user.is_superuser or (token is not None and token.team_id is not None):
        events = events.filter(team__in=teams)
    if query.action.strip():
        events = events.filter(action__startswith=query.action.strip())
    before = cursors.read_id(query.cursor)
    if before:
        events = events.filter(id__lt=before)
    page = list(events[: query.limit + 1])
    more = len(page) > query.limit
    page = page[: query.limit]
    items = [
        {
            "id": e.pk,
            "at": e.at,
            "actor": e.actor_name,
            "team": e.team.name if e.team else None,
            "connection": e.connection_id,
            "action": e.action,
            "target": e.target,
            "detail": e.detail if isinstance(e.detail, dict) else {"value": e.detail},
            "ip": e.ip,
        }
        for e in page
    ]
    return {"items": items, "next_cursor": cursors.make_id(page[-1].pk) if more else None}
