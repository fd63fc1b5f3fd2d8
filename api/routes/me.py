"""Who the API takes you for: the user, the token's limits and the rate limit."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from accounts.models import Role
from api import access, ratelimit
from api.responses import answers, needs
from api.schemas import MeOut

router = Router(tags=["me"])


@router.get("", response=answers(MeOut), openapi_extra=needs(Role.VIEWER))
def me(request: HttpRequest) -> dict[str, Any]:
    token = access.token_of(request)
    limit, window = ratelimit.limits()
    return {
        "username": request.user.get_username(),
        "superuser": request.user.is_superuser,
        "token": None
        if token is None
        else {
            "name": token.name,
            "hint": token.hint,
            "ceiling": token.ceiling,
            "team": token.team.name if token.team else None,
            "expires_at": token.expires_at,
        },
        "rate_limit": {"limit": limit, "window_seconds": window},
    }
