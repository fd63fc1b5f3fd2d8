"""Credential encryption at rest with MultiFernet: the first key encrypts, every key decrypts."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from connections import logging as secret_logging


def _fernet() -> MultiFernet:
    keys = [k.strip() for k in getattr(settings, "DBDECK_FERNET_KEYS", []) if k.strip()]
    if not keys:
        raise ImproperlyConfigured("DBDECK_FERNET_KEYS is empty: set at least one Fernet key.")
    try:
        return MultiFernet([Fernet(k.encode()) for k in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "DBDECK_FERNET_KEYS holds a key that is not a valid Fernet key "
            "(32 url-safe base64-encoded bytes; make one with `Fernet.generate_key()`)."
        ) from exc


def encrypt(plain: str) -> str:
    if not plain:
        return ""
    return _fernet().encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        plain = _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ImproperlyConfigured(
            "A stored secret cannot be decrypted with DBDECK_FERNET_KEYS; add the key it was written with to the list."
        ) from None
    secret_logging.remember(plain)
    return plain


def rotate(token: str) -> str:
    """Re-encrypt under the first key (raises if no key in the list can read it)."""
    if not token:
        return ""
    return _fernet().rotate(token.encode()).decode()
