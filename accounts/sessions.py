"""Idle sessions end after DBDECK_SESSION_IDLE_MINUTES.

The last-seen time lives in the session and is rewritten at most once a minute, so a
busy page (htmx polling) does not cost a session write per request. Saving the session
also pushes its expiry (SESSION_COOKIE_AGE = the idle period) forward.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse

from accounts.twofactor import SSO_SESSION_KEY

LAST_SEEN_KEY = "dbdeck_last_seen"
REFRESH_SECONDS = 60


class IdleTimeoutMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = int(time.time())
            last_seen = request.session.get(LAST_SEEN_KEY)
            if last_seen is not None and now - int(last_seen) > settings.DBDECK_SESSION_IDLE_MINUTES * 60:
                request.dbdeck_logout_reason = "idle"  # type: ignore[attr-defined]
                logout(request)
                messages.info(request, "You were logged out after a period without activity. Log in again.")
            elif last_seen is None or now - int(last_seen) >= REFRESH_SECONDS:
                request.session[LAST_SEEN_KEY] = now
        return self.get_response(request)


@receiver(user_logged_in)
def _fresh_login(sender: object, request: HttpRequest | None, user: object, **kwargs: object) -> None:
    # A login keeps the session's data when the same user logs in again; a stale time would end it at once.
    if request is not None and hasattr(request, "session"):
        request.session[LAST_SEEN_KEY] = int(time.time())
        # Set again by the single-sign-on callback after its login; a password login must not inherit it.
        request.session.pop(SSO_SESSION_KEY, None)
