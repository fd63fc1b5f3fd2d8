"""Response headers every page needs, and the one request header error pages may echo.

- `NoStoreMiddleware`: pages a signed-in person sees show their data (rows, keys, audit
  entries, downloads); no browser or proxy cache may keep them. Static files are served by
  WhiteNoise before this middleware and keep their long cache lifetime.
- `same_origin_referrer`: a "Back" link may point to the Referer only when it names this
  very site; anything else (another host, `javascript:`, `data:`) links home instead.
- `nav_urls`: the top bar's links, reversed once.
- `csp_nonce`: puts the request's nonce in every template's context as `csp_nonce`, the name
  django-htmx's `{% htmx_script %}` reads.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponseBase
from django.urls import get_script_prefix, reverse
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme


def _static_prefix() -> str:
    path = urlsplit(str(settings.STATIC_URL)).path
    return "/" + path.lstrip("/")


class NoStoreMiddleware:
    """Mark every response to a signed-in user `Cache-Control: no-store` (static files excepted)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not request.path.startswith(_static_prefix()):
            add_never_cache_headers(response)
        return response


def same_origin_referrer(request: HttpRequest) -> str:
    """The Referer when it is an http(s) URL on this host and scheme, else ""."""
    referer = request.META.get("HTTP_REFERER", "")
    if not referer:
        return ""
    try:
        host = request.get_host()
    except DisallowedHost:
        return ""
    parts = urlsplit(referer)
    if parts.scheme != request.scheme or parts.netloc.lower() != host.lower():
        return ""
    # Django's redirect check also refuses control characters and backslash tricks.
    if not url_has_allowed_host_and_scheme(referer, allowed_hosts={host}, require_https=request.is_secure()):
        return ""
    return referer


def back_link(request: HttpRequest) -> dict[str, str]:
    """Context processor: `back_url` for error pages, "" unless the Referer is same-origin."""
    return {"back_url": same_origin_referrer(request)}


def csp_nonce(request: HttpRequest) -> dict[str, object]:
    """Context processor: the per-request CSP nonce (lazy: the header names it only once used)."""
    return {"csp_nonce": getattr(request, "csp_nonce", "")}


# The top bar's links name no object, so they are the same on every page.
_NAV = {
    "connections": "connections:list",
    "explorer": "explorer:index",
    "backups": "backups:index",
    "monitoring": "monitoring:index",
    "teams": "accounts:teams",
    "audit": "audit:list",
    "admin": "admin:index",
    "twofactor": "twofactor",
    "tokens": "tokens",
    "logout": "logout",
}


@lru_cache(maxsize=16)
def _nav(prefix: str) -> dict[str, str]:
    return {key: reverse(name) for key, name in _NAV.items()}


def nav_urls(request: HttpRequest) -> dict[str, dict[str, str]]:
    """The top bar's links as `nav.<name>` in every template (one dict per script prefix: read-only)."""
    return {"nav": _nav(get_script_prefix())}
