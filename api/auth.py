"""Who is calling: a personal access token (Bearer) or the browser's session (with CSRF)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth

from accounts.access import has_roles
from api import ratelimit, tokens
from api.problems import RateLimited


class TokenAuth(HttpBearer):
    """`Authorization: Bearer dbd_…`: the token's owner becomes request.user, the token request.api_token."""

    openapi_description = "A personal access token made on your Tokens page (dbd_…)."

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        found = tokens.find(token.strip())
        if found is None:
            return None
        wait = ratelimit.hit(found, request.META.get("REMOTE_ADDR"))
        if wait:
            raise RateLimited(wait)
        request.user = found.user
        request.api_token = found  # type: ignore[attr-defined]
        return found


class BrowserSession(SessionAuth):
    """The signed-in browser; ninja checks the CSRF token on unsafe methods."""

    openapi_description = "The dbdeck session cookie of a signed-in browser; writes need the X-CSRFToken header."

    def __call__(self, request: HttpRequest) -> Any:
        # Without a signed-in session there is nothing to check CSRF for: the answer is 401, not 403.
        user = getattr(request, "user", None)
        if user is None or not has_roles(user):
            return None
        return super().__call__(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        return request.user


AUTH = [TokenAuth(), BrowserSession()]
