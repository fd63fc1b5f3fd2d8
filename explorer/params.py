"""Query strings of explorer links, built with QueryDict from the current one or from scratch.

What the parameters mean, and how they are checked, is in explorer/forms.py.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from urllib.parse import urlencode

from django.http import QueryDict

from config.links import reverse_once


def changed(query: QueryDict, **changes: object) -> QueryDict:
    """A copy of `query` with some parameters replaced (None removes one, a list repeats)."""
    return _put(query.copy(), changes)


def _put(query: QueryDict, changes: dict[str, object]) -> QueryDict:
    for key, value in changes.items():
        if value is None:
            query.pop(key, None)
        elif isinstance(value, list | tuple):
            query.setlist(key, [str(v) for v in value])
        else:
            query[key] = str(value)
    return query


def state(query: QueryDict, **changes: object) -> str:
    """`?` and the current query string with some parameters replaced (None removes one, a list repeats)."""
    return "?" + changed(query, **changes).urlencode()


def without_paging(query: QueryDict, **changes: object) -> str:
    return state(query, after=None, before=None, **changes)


def with_query(path: str, query: QueryDict) -> str:
    return f"{path}?{query.urlencode()}" if query else path


@lru_cache(maxsize=1024)
def table_query(ns: str | None, obj: str | None) -> str:
    """`?ns=..&obj=..` as QueryDict writes it (None leaves one out; "" when both are), for links to a
    schema or table: a page asks for the same few on every view, and a QueryDict costs ten microseconds."""
    pairs = [(key, value) for key, value in (("ns", ns), ("obj", obj)) if value is not None]
    return "?" + urlencode(pairs) if pairs else ""


def link(view: str, pk: int, **query: object) -> str:
    """URL of an explorer view with names carried in query parameters (None leaves one out, a list repeats)."""
    return with_query(reverse_once(view, pk), _put(QueryDict(mutable=True), query))


def crumbs(prefix: str, separator: str, url_for: Callable[[str], str]) -> list[tuple[str, str]]:
    """(segment, url) for each level of a key or object prefix, e.g. a/b/ -> a, a/b."""
    trail, so_far = [], ""
    for part in (p for p in prefix.split(separator) if p):
        so_far += part + separator
        trail.append((part, url_for(so_far)))
    return trail
