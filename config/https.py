"""The settings one switch (DBDECK_HTTPS) turns on, kept as a function so tests apply the same values."""

from __future__ import annotations

from typing import Any

HSTS_SECONDS = 31_536_000  # one year: the value browsers' preload lists ask for


def proxy_ssl_header(header: str) -> tuple[str, str] | None:
    """'X-Forwarded-Proto' -> ('HTTP_X_FORWARDED_PROTO', 'https'); only set it when a proxy strips the client's copy."""
    if not header:
        return None
    return "HTTP_" + header.strip().upper().replace("-", "_"), "https"


def https_settings(on: bool, proxy_header: str = "") -> dict[str, Any]:
    values: dict[str, Any] = {
        "SESSION_COOKIE_SECURE": on,
        "CSRF_COOKIE_SECURE": on,
        "SECURE_SSL_REDIRECT": on,
        # Container and load-balancer probes speak plain HTTP to the app port.
        "SECURE_REDIRECT_EXEMPT": [r"^healthz$"],
        "SECURE_HSTS_SECONDS": HSTS_SECONDS if on else 0,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": on,
        "SECURE_PROXY_SSL_HEADER": proxy_ssl_header(proxy_header),
    }
    return values
