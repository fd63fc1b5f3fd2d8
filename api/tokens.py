"""Personal access tokens: made once, kept as a SHA-256 digest, found by that digest.

The secret is `dbd_` and 43 URL-safe characters (256 random bits), so a leaked token is
recognisable to secret scanners and cannot be guessed; a plain hash suffices for a
secret that has that much entropy (no per-token salt or slow hash is needed).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from django.utils import timezone

from accounts.models import Role, Team
from api.models import AccessToken

PREFIX = "dbd_"
SECRET_BYTES = 32
MAX_SECRET_CHARS = 100
HINT_CHARS = 10
MAX_DAYS = 366
EXPIRY_CHOICES = [(7, "7 days"), (30, "30 days"), (90, "90 days"), (365, "1 year")]


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue(user: Any, *, name: str, ceiling: Role, days: int, team: Team | None = None) -> tuple[AccessToken, str]:
    """A new token and its secret; the secret exists only in the return value."""
    secret = PREFIX + secrets.token_urlsafe(SECRET_BYTES)
    token = AccessToken.objects.create(
        user=user,
        name=name,
        digest=digest(secret),
        hint=secret[:HINT_CHARS],
        team=team,
        ceiling=ceiling,
        expires_at=timezone.now() + dt.timedelta(days=min(days, MAX_DAYS)),
    )
    return token, secret


def find(secret: str) -> AccessToken | None:
    """The active token with this secret whose owner is still active; None for anything else."""
    if not secret.startswith(PREFIX) or len(secret) > MAX_SECRET_CHARS:
        return None
    token = AccessToken.objects.select_related("user", "team").filter(digest=digest(secret)).first()
    if token is None or not token.active or not token.user.is_active:
        return None
    return token


def revoke(token: AccessToken) -> bool:
    """Revoke once; False when it was revoked already."""
    return bool(AccessToken.objects.filter(pk=token.pk, revoked_at=None).update(revoked_at=timezone.now()))
