"""mozilla-django-oidc wired to dbdeck: endpoints from the issuer's discovery document,
users keyed by (issuer, sub), memberships from group claims. Imported only when SSO is on."""

from __future__ import annotations

import hashlib
import time
from typing import Any

import requests
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import SuspiciousOperation
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from accounts.models import OidcIdentity
from accounts.oidc_teams import groups_from_claims, parse_team_map, sync_memberships
from accounts.twofactor import SSO_SESSION_KEY

DISCOVERY_TIMEOUT = 10
_ENDPOINTS = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
}
_discovered: dict[str, dict[str, Any]] = {}


def discovery(issuer: str) -> dict[str, Any]:
    """The provider's metadata, fetched once per process; restart dbdeck after the provider moves."""
    if issuer not in _discovered:
        response = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=DISCOVERY_TIMEOUT)
        response.raise_for_status()
        _discovered[issuer] = response.json()
    return _discovered[issuer]


def oidc_setting(attr: str, *default: Any) -> Any:
    if attr in _ENDPOINTS and not getattr(settings, attr, None):
        return discovery(settings.DBDECK_OIDC_ISSUER)[_ENDPOINTS[attr]]
    return import_from_settings(attr, *default)


class TeamMappingOIDCBackend(OIDCAuthenticationBackend):
    get_settings = staticmethod(oidc_setting)

    def verify_token(self, token: str, **kwargs: Any) -> dict[str, Any]:
        # The library checks signature and nonce; issuer, audience and expiry are checked here.
        payload: dict[str, Any] = super().verify_token(token, **kwargs)
        issuer = discovery(settings.DBDECK_OIDC_ISSUER).get("issuer", settings.DBDECK_OIDC_ISSUER)
        audience = payload.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if payload.get("iss") != issuer or self.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation("ID token is for another issuer or client.")
        if float(payload.get("exp", 0)) < time.time():
            raise SuspiciousOperation("ID token has expired.")
        self._id_claims = payload
        return payload

    def get_userinfo(self, access_token: str, id_token: str, payload: dict[str, Any]) -> dict[str, Any]:
        # Groups may come in the ID token or from the userinfo endpoint; userinfo wins on conflicts.
        return {**payload, **super().get_userinfo(access_token, id_token, payload)}

    def verify_claims(self, claims: dict[str, Any]) -> bool:
        return bool(claims.get("sub"))

    def filter_users_by_claims(self, claims: dict[str, Any]) -> Any:
        # Keyed by the provider's subject, never by e-mail or name, so nobody can claim a local account.
        return self.UserModel.objects.filter(
            oidc_identities__issuer=settings.DBDECK_OIDC_ISSUER, oidc_identities__subject=str(claims["sub"])
        )

    @transaction.atomic
    def create_user(self, claims: dict[str, Any]) -> Any:
        user = get_user_model().objects.create_user(self._free_username(claims), email=claims.get("email", ""))
        OidcIdentity.objects.create(user=user, issuer=settings.DBDECK_OIDC_ISSUER, subject=str(claims["sub"]))
        return self.update_user(user, claims)

    def update_user(self, user: Any, claims: dict[str, Any]) -> Any:
        email = claims.get("email") or ""
        if email and user.email != email:
            user.email = email
            user.save(update_fields=["email"])
        groups = groups_from_claims(claims, settings.DBDECK_OIDC_GROUPS_CLAIM)
        sync_memberships(user, groups, parse_team_map(settings.DBDECK_OIDC_TEAM_MAP))
        return user

    @staticmethod
    def _free_username(claims: dict[str, Any]) -> str:
        base = str(claims.get("preferred_username") or claims.get("email") or "sso-user")[:120]
        if not get_user_model().objects.filter(username=base).exists():
            return base
        return f"{base}-{hashlib.sha256(str(claims['sub']).encode()).hexdigest()[:8]}"


class StartView(OIDCAuthenticationRequestView):
    get_settings = staticmethod(oidc_setting)


class CallbackView(OIDCAuthenticationCallbackView):
    get_settings = staticmethod(oidc_setting)

    def login_success(self) -> HttpResponse:
        response: HttpResponse = super().login_success()
        self.request.session[SSO_SESSION_KEY] = True
        return response

    def login_failure(self) -> HttpResponse:
        messages.error(
            self.request,
            "Single sign-on did not complete. Try again; if it keeps failing, "
            "ask your identity-provider admin whether dbdeck's client is allowed for you.",
        )
        return redirect("login")
