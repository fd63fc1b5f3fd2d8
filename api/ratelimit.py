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
from functools import cache

from django.conf import settings
from django.db import connections, router
from django.utils import timezone

from api.models import AccessToken
from config.plainsql import PlainRows


def limits() -> tuple[int, int]:
    return int(settings.DBDECK_API_RATE_LIMIT), max(1, int(settings.DBDECK_API_RATE_WINDOW))


@cache
def _statements() -> tuple[str, str]:
    """Count within the window, or open a new one: plain statements, since every API call runs one."""
    rows = PlainRows(AccessToken)
    window, hits, pk = rows.qn("window"), rows.qn("hits"), rows.qn("id")
    used = f"{rows.qn('last_used_at')} = %s, {rows.qn('last_used_ip')} = %s"
    count = f"UPDATE {rows.table} SET {hits} = {hits} + 1, {used} WHERE {pk} = %s AND {window} = %s AND {hits} < %s"
    turn = f"UPDATE {rows.table} SET {window} = %s, {hits} = 1, {used} WHERE {pk} = %s AND {window} <> %s"
    return count, turn


def hit(token: AccessToken, ip: str | None) -> int:
    """Count one request; 0 when allowed, else the seconds until the window turns (for Retry-After)."""
    limit, length = limits()
    now = time.time()
    window = int(now // length) * length
    count, turn = _statements()
    conn = connections[router.db_for_write(AccessToken)]
    used = [conn.ops.adapt_datetimefield_value(timezone.now()), ip or None]
    with conn.cursor() as cur:
        cur.execute(count, [*used, token.pk, window, limit])
        if cur.rowcount:
            return 0
        cur.execute(turn, [window, *used, token.pk, window])
        if cur.rowcount:
            return 0
        # Another request may have turned the window between the two statements: count again.
        cur.execute(count, [*used, token.pk, window, limit])
        if cur.rowcount:
            return 0
    return max(1, int(window + length - now + 0.999))
