"""Logins, failed logins, lockouts and logouts go to the audit trail, from Django's and axes' signals."""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from accounts.twofactor import user_has_device
from audit.record import record

# Enough for any real username; a hostile one pasted into the form stays short in the audit row.
USERNAME_CHARS = 150


def _via(request: HttpRequest | None) -> str:
    if request is None:
        return "code"
    return "admin" if request.path_info.startswith("/admin/") else "web"


@receiver(user_logged_in)
def _logged_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is None:  # Client.force_login and other in-process logins: nobody typed anything
        return
    backend = getattr(user, "backend", "") or ""
    method = "sso" if "oidc" in backend.lower() else "password"
    # A password login of a user with a device is not complete until login.verified follows.
    pending = method == "password" and user_has_device(user)
    record(
        "login.ok",
        request=request,
        actor=user,
        target=user.get_username(),
        method=method,
        second_factor="pending" if pending else "none",
        via=_via(request),
    )


@receiver(user_login_failed)
def _login_failed(sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any) -> None:
    if request is not None and getattr(request, "axes_locked_out", False):
        return  # the lockout receiver writes this attempt as login.locked
    # Django has already masked the password in `credentials`; only the username is kept.
    username = str(credentials.get("username") or "")[:USERNAME_CHARS]
    record("login.failed", request=request, target=username, via=_via(request))


@receiver(user_locked_out)
def _locked_out(sender: Any, request: HttpRequest, username: str | None, ip_address: str | None, **kwargs: Any) -> None:
    from django.conf import settings

    record(
        "login.locked",
        request=request,
        target=str(username or "")[:USERNAME_CHARS],
        address=ip_address,
        cooloff_hours=settings.AXES_COOLOFF_TIME,
        via=_via(request),
    )


@receiver(user_logged_out)
def _logged_out(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if user is None:
        return
    reason = getattr(request, "dbdeck_logout_reason", "user") if request is not None else "user"
    record("logout", request=request, actor=user, target=user.get_username(), reason=reason)
