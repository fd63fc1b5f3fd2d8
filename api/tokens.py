"""Personal access tokens: made once, kept as a SHA-256 digest, found by that digest.

The secret is `dbd_` and 43 URL-safe characters (256 random bits), so a leaked token is
recognisable to secret scanners and cannot be guessed; a plain hash suffices for a
secret that has that much entropy (no per-token salt or slow hash is needed).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from functools import cache
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from accounts.models import Role, Team
from api.models import AccessToken
from config.plainsql import PlainRows

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


@cache
def _with_owner() -> tuple[PlainRows[AccessToken], PlainRows[Any], str]:
    """The token and its owner in one plain statement: every API call asks, and the ORM's
    compiler cost more than the statement (config/plainsql.py)."""
    tokens, users = PlainRows(AccessToken), PlainRows(get_user_model())
    sql = (
        f"SELECT {tokens.columns('t')}, {users.columns('u')} FROM {tokens.table} t"
        f" INNER JOIN {users.table} u ON u.{users.qn(users.model._meta.pk.column)} = {tokens.column('t', 'user')}"
        f" WHERE {tokens.column('t', 'digest')} = %s"
    )
    return tokens, users, sql


def find(secret: str) -> AccessToken | None:
    """The active token with this secret whose owner is still active; None for anything else."""
    if not secret.startswith(PREFIX) or len(secret) > MAX_SECRET_CHARS:
        return None
    tokens, users, sql = _with_owner()
    rows = tokens.fetch(sql, [digest(secret)])
    if not rows:
        return None
    token = tokens.build(rows[0])
    token._state.fields_cache["user"] = users.build(rows[0][tokens.width :])
    if not token.active or not token.user.is_active:
        return None
    return token


def revoke(token: AccessToken) -> bool:
    """Revoke once; False when it was revoked already."""
    return bool(AccessToken.objects.filter(pk=token.pk, revoked_at=None).update(revoked_at=timezone.now()))
