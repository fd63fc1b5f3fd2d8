"""The login page (password, then a code when the user has a second factor)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django_otp import login as otp_login
from django_otp import match_token
from django_otp.plugins.otp_static.models import StaticDevice

from accounts.forms import CodeForm
from accounts.oidc import oidc_enabled
from audit.record import record


def login_page(request: HttpRequest) -> HttpResponse:
    view = auth_views.LoginView.as_view(redirect_authenticated_user=True, extra_context={"sso": oidc_enabled()})
    return view(request)


def _next_url(request: HttpRequest) -> str:
    url = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return url
    return settings.LOGIN_REDIRECT_URL


@never_cache
@sensitive_post_parameters("token")
@login_required
def login_code(request: HttpRequest) -> HttpResponse:
    """Second step: a code from the authenticator app, or one recovery code."""
    if request.user.is_verified():  # type: ignore[union-attr]
        return redirect(_next_url(request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # match_token tries every confirmed device; each one throttles repeated wrong codes itself.
        device = match_token(request.user, form.cleaned_data["token"])
        if device is not None:
            request.session.cycle_key()
            otp_login(request, device)
            recovery = isinstance(device, StaticDevice)
            left = device.token_set.count() if recovery else None
            record("login.verified", request=request, target=request.user.get_username(), recovery_code=recovery)
            if recovery:
                messages.warning(
                    request,
                    f"You used a recovery code; {left} left. Make new ones on your account's two-factor page.",
                )
            return redirect(_next_url(request))
        record("login.code_failed", request=request, target=request.user.get_username())
        form.add_error(
            "token",
            "That code was not accepted. Enter the current code from your app (they change every 30 seconds) "
            "or an unused recovery code; after several wrong tries, wait a little before the next.",
        )
    return render(request, "registration/login_code.html", {"form": form, "next": _next_url(request)})
