"""Who needs a second factor, and the middleware that sends them to it before anything else.

A session is "verified" once django-otp has checked a code from one of the user's devices
(`request.user.is_verified()`). A user with a confirmed device must verify every session;
a user without one is sent to enrolment when DBDECK_REQUIRE_2FA covers them. Sessions
opened through single sign-on are left to the identity provider, which owns that login.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from urllib.parse import urlencode

from django.conf import settings
from django.core.checks import CheckMessage, Error, register
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django_otp import device_classes

from accounts.models import Membership, Role
from config.links import reverse_once

MODES = ("off", "all", "above_viewer")
SSO_SESSION_KEY = "dbdeck_sso"


def must_enrol(user: object) -> bool:
    """Whether DBDECK_REQUIRE_2FA demands a device from this user."""
    mode = settings.DBDECK_REQUIRE_2FA
    if mode == "all":
        return True
    if mode == "above_viewer":
        if getattr(user, "is_superuser", False):
            return True
        return Membership.objects.filter(user=user, role__in=[Role.EDITOR, Role.ADMIN]).exists()
    return False


@cache
def _device_sql() -> tuple[str, int]:
    """One EXISTS over every installed device table (django-otp's own check asks each in turn)."""
    qn = connection.ops.quote_name
    parts = [
        f"SELECT 1 FROM {qn(model._meta.db_table)}"
        f" WHERE {qn(model._meta.get_field('user').column)} = %s AND {qn('confirmed')} = %s"
        for model in device_classes()
    ]
    return "SELECT EXISTS (" + " UNION ALL ".join(parts) + ")", len(parts)


def user_has_device(user: object) -> bool:
    """Whether the user has a confirmed second-factor device, in one query (this runs on every
    request of a session that has not been verified)."""
    pk = getattr(user, "pk", None)
    if pk is None:
        return False
    with connection.cursor() as cur:
        sql, tables = _device_sql()
        cur.execute(sql, [pk, True] * tables)
        return bool(cur.fetchone()[0])


def second_factor_ok(request: HttpRequest) -> bool:
    """True when this session may act: verified, single sign-on, or no factor needed."""
    user = request.user
    if not user.is_authenticated:
        return False
    if user.is_verified() or request.session.get(SSO_SESSION_KEY):  # type: ignore[union-attr]
        return True
    return not user_has_device(user) and not must_enrol(user)


def _exempt(path: str, *prefixes: str) -> bool:
    return any(path.startswith(p) for p in prefixes)


class TwoFactorMiddleware:
    """Sends an unverified session to the code step, or an unenrolled one to enrolment."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if not user.is_authenticated or user.is_verified() or request.session.get(SSO_SESSION_KEY):  # type: ignore[union-attr]
            return self.get_response(request)
        path = request.path_info
        # Always reachable: finishing or leaving the login, static files, the icon and health probes.
        static = "/" + settings.STATIC_URL.lstrip("/")
        base = (reverse_once("login"), reverse_once("logout"), static, reverse_once("favicon"), reverse_once("healthz"))
        if user_has_device(user):
            if not _exempt(path, *base):
                return self._to("login_code", request)
        elif must_enrol(user) and not _exempt(path, *base, reverse_once("twofactor")):
            return self._to("twofactor", request)
        return self.get_response(request)

    @staticmethod
    def _to(name: str, request: HttpRequest) -> HttpResponse:
        return HttpResponseRedirect(reverse(name) + "?" + urlencode({"next": request.get_full_path()}))


@register()
def check_require_2fa(**kwargs: object) -> list[CheckMessage]:
    if settings.DBDECK_REQUIRE_2FA not in MODES:
        return [
            Error(
                f"DBDECK_REQUIRE_2FA is {settings.DBDECK_REQUIRE_2FA!r}.",
                hint="Set it to off, all or above_viewer.",
                id="dbdeck.E201",
            )
        ]
    return []
