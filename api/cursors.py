"""Cursors of the API's own lists (connections, exports, audit events): an opaque token over an id.

Engine listings pass the engines' own tokens through unchanged (browse.py's contract).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError

from connections.engines import EngineError, cursor


def make_id(pk: int) -> str:
    return cursor.encode({"id": pk})


def read_id(token: str, default: int = 0) -> int:
    if not token:
        return default
    try:
        value = cursor.decode(token, shape=cursor.KEY).get("id")
    except EngineError as exc:
        raise ValidationError(exc.message) from None
    if type(value) is not int or value < 0:
        raise ValidationError("That page link is damaged; start from the first page again.")
    return value
