"""Grid state lives in the query string, so every view is a bookmarkable URL.

?ns=<schema>&obj=<table>&after=<cursor>|before=<cursor>&sort=<col>&desc=1
 &fc=<col>&fo=<op>&fv=<value> (repeated, one triple per filter)
 &col=<col> (repeated: shown columns; none = all)
 &q=<json filter>&proj=<json projection>&msort=<json sort>   (MongoDB)
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.http import QueryDict

from connections.engines import cursor
from connections.engines.browse import DEFAULT_LIMIT, FILTER_OPS, Filter, PageRequest

MAX_FILTERS = 20
MAX_PARAM_CHARS = 10_000


def _clip(value: str) -> str:
    return value[:MAX_PARAM_CHARS]


def page_request(query: QueryDict, *, limit: int = DEFAULT_LIMIT) -> PageRequest:
    filters = []
    for col, op, value in zip(query.getlist("fc"), query.getlist("fo"), query.getlist("fv"), strict=False):
        if col and op in FILTER_OPS:
            filters.append(Filter(_clip(col), op, _clip(value)))
    after, before = query.get("after"), query.get("before")
    for token in (after, before):
        if token:
            cursor.decode(token, shape=cursor.PAGE)  # refuse a hand-made token before any engine sees it
    return PageRequest(
        cursor=before or after or None,
        direction="prev" if before else "next",
        sort=_clip(query.get("sort", "")) or None,
        descending=query.get("desc") == "1",
        filters=tuple(filters[:MAX_FILTERS]),
        columns=tuple(_clip(c) for c in query.getlist("col") if c),
        limit=limit,
        query=_clip(query.get("q", "")),
        projection=_clip(query.get("proj", "")),
        sort_json=_clip(query.get("msort", "")),
    )


def state(query: QueryDict, **changes: object) -> str:
    """The current query string with some parameters replaced (None removes one)."""
    params: list[tuple[str, str]] = []
    for key in query:
        if key in changes:
            continue
        params.extend((key, v) for v in query.getlist(key))
    for key, value in changes.items():
        if value is None:
            continue
        if isinstance(value, list | tuple):
            params.extend((key, str(v)) for v in value)
        else:
            params.append((key, str(value)))
    return "?" + urlencode(params)


def without_paging(query: QueryDict, **changes: object) -> str:
    return state(query, after=None, before=None, **changes)


def link(view: str, pk: int, **query: object) -> str:
    """URL of an explorer view with names carried in query parameters (lists repeat)."""
    from django.urls import reverse

    pairs: list[tuple[str, str]] = []
    for key, value in query.items():
        if value is None:
            continue
        if isinstance(value, list | tuple):
            pairs.extend((key, str(v)) for v in value)
        else:
            pairs.append((key, str(value)))
    return reverse(view, args=[pk]) + ("?" + urlencode(pairs) if pairs else "")


def crumbs(prefix: str, separator: str, url_for: Callable[[str], str]) -> list[tuple[str, str]]:
    """(segment, url) for each level of a key or object prefix, e.g. a/b/ -> a, a/b."""
    trail, so_far = [], ""
    for part in (p for p in prefix.split(separator) if p):
        so_far += part + separator
        trail.append((part, url_for(so_far)))
    return trail
