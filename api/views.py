"""The Tokens page: make a personal access token (its secret shown once), see and revoke yours."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import Role
from api import ratelimit, tokens
from api.forms import TokenForm
from api.models import AccessToken
from audit.record import record

NEW_SECRET_KEY = "dbdeck_new_token"


@login_required
@require_http_methods(["GET", "POST"])
def token_list(request: HttpRequest) -> HttpResponse:
    """Post, redirect, show: the new secret rides in the session to the next page view, which removes it,
    so reloading neither shows it again nor makes a second token."""
    form = TokenForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        token, secret = tokens.issue(
            request.user, name=data["name"], ceiling=Role(data["ceiling"]), days=data["days"], team=data["team"]
        )
        record(
            "token.create",
            request=request,
            team=token.team,
            target=token.name,
            hint=token.hint,
            ceiling=token.ceiling,
            expires=token.expires_at.isoformat(),
        )
        request.session[NEW_SECRET_KEY] = secret
        return redirect("tokens")
    limit, window = ratelimit.limits()
    ctx = {
        "form": form,
        "secret": request.session.pop(NEW_SECRET_KEY, ""),
        "tokens": AccessToken.objects.filter(user=request.user).select_related("team"),
        "limit": limit,
        "window": window,
    }
    return render(request, "api/tokens.html", ctx, status=400 if form.errors else 200)


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = AccessToken.objects.filter(pk=pk, user=request.user).first()
    if token is None:
        raise Http404("No such token.")
    if tokens.revoke(token):
        record("token.revoke", request=request, team=token.team, target=token.name, hint=token.hint)
        messages.success(request, f"Revoked “{token.name}”; it stops working now.")
    return redirect("tokens")
