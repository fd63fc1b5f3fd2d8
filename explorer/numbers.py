"""Numbers from the request: ASCII digits only, range-checked, a clear 400 otherwise.

Python's `int()` and `str.isdigit()` accept Unicode digits ('١٢', '²', '５'),
underscores and unbounded sizes; a database driver then fails in its own way.
Every number a view reads from a query string or form goes through here.
"""

from __future__ import annotations

import math
import re

from django.core.exceptions import BadRequest

INT_RE = re.compile(r"-?[0-9]{1,19}")
FLOAT_RE = re.compile(r"-?(?:[0-9]{1,300}(?:\.[0-9]{0,300})?|\.[0-9]{1,300})(?:[eE][-+]?[0-9]{1,3})?")
INT64_MAX = 2**63 - 1


class BadNumber(BadRequest):
    """A number from the request that is not one; the message says what was expected."""


def parse_int(raw: str | None, *, name: str, minimum: int = 0, maximum: int = INT64_MAX) -> int:
    text = (raw or "").strip()
    if not INT_RE.fullmatch(text):
        raise BadNumber(f"The {name} must be a whole number written with the digits 0-9.")
    value = int(text)
    if not minimum <= value <= maximum:
        raise BadNumber(f"The {name} must be between {minimum} and {maximum}.")
    return value


def parse_int_or_none(raw: str | None, *, name: str, minimum: int = -INT64_MAX, maximum: int = INT64_MAX) -> int | None:
    if raw is None or not raw.strip():
        return None
    return parse_int(raw, name=name, minimum=minimum, maximum=maximum)


def parse_int_or(raw: str | None, default: int, *, name: str, minimum: int = 0, maximum: int = INT64_MAX) -> int:
    if raw is None or not raw.strip():
        return default
    return parse_int(raw, name=name, minimum=minimum, maximum=maximum)


def parse_float_or_none(raw: str | None, *, name: str) -> float | None:
    text = (raw or "").strip()
    if not text:
        return None
    if not FLOAT_RE.fullmatch(text):
        raise BadNumber(f"The {name} must be a number written with the digits 0-9, like 1.5.")
    value = float(text)
    if not math.isfinite(value):
        raise BadNumber(f"The {name} is too large.")
    return value


def is_id(raw: str | None) -> bool:
    """Whether `raw` is a database id: ASCII digits within a signed 64-bit integer."""
    return raw is not None and INT_RE.fullmatch(raw) is not None and 0 <= int(raw) <= INT64_MAX
