"""A fixed-window request counter per token, kept on the token row itself.

One conditional UPDATE both counts the request and records the token's last use, so the
limit holds across every worker process without a shared cache: the row is the counter.
Windows are DBDECK_API_RATE_WINDOW seconds long (60) and allow DBDECK_API_RATE_LIMIT
requests (600); the next request answers 429 with Retry-After until the window turns.
A fixed window lets a client send up to twice the limit across a window boundary; that
is the price of one statement per request.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from api.models import AccessToken


def limits() -> tuple[int, int]:
    return int(settings.DBDECK_API_RATE_LIMIT), max(1, int(settings.DBDECK_API_RATE_WINDOW))


def hit(token: AccessToken, ip: str | None) -> int:
    """Count one request; 0 when allowed, else the seconds until the window turns (for Retry-After)."""
    limit, length = limits()
    now = time.time()
    window = int(now // length) * length
    used = {"last_used_at": timezone.now(), "last_used_ip": ip or None}
    rows = AccessToken.objects.filter(pk=token.pk)
    if rows.filter(window=window, hits__lt=limit).update(hits=F("hits") + 1, **used):
        return 0
    if rows.exclude(window=window).update(window=window, hits=1, **used):
        return 0
    # Another request may have turned the window between the two statements: count again.
    if rows.filter(window=window, hits__lt=limit).update(hits=F("hits") + 1, **used):
        return 0
    return max(1, int(window + length - now + 0.999))
