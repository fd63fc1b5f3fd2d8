"""`reverse_once`: URLs that are the same on every request, reversed once per script prefix.

The top bar, the two-factor gate and the explorer's links ask the resolver for the same few
paths on every page; each `reverse()` walks the URL patterns again.
"""

from __future__ import annotations

from functools import lru_cache

from django.urls import get_script_prefix, reverse


@lru_cache(maxsize=4096)
def _reverse(prefix: str, view: str, args: tuple[object, ...]) -> str:
    return reverse(view, args=list(args))


def reverse_once(view: str, *args: object) -> str:
    """`reverse(view, args=args)`, remembered for the current script prefix."""
    return _reverse(get_script_prefix(), view, args)
