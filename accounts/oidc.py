"""Single sign-on entry points. mozilla-django-oidc is imported only once SSO is configured."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse

NOT_CONFIGURED = (
    "Single sign-on is not configured here. Log in with your dbdeck username and password, "
    "or ask the operator to set DBDECK_OIDC_ISSUER, DBDECK_OIDC_CLIENT_ID and DBDECK_OIDC_CLIENT_SECRET."
)


def oidc_enabled() -> bool:
    return bool(
        getattr(settings, "DBDECK_OIDC_ISSUER", "")
        and getattr(settings, "OIDC_RP_CLIENT_ID", "")
        and getattr(settings, "OIDC_RP_CLIENT_SECRET", "")
    )


def oidc_start(request: HttpRequest) -> HttpResponse:
    if not oidc_enabled():
        raise Http404(NOT_CONFIGURED)
    from accounts.oidc_backend import StartView

    return StartView.as_view()(request)


def oidc_callback(request: HttpRequest) -> HttpResponse:
    if not oidc_enabled():
        raise Http404(NOT_CONFIGURED)
    from accounts.oidc_backend import CallbackView

    return CallbackView.as_view()(request)
