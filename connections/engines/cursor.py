"""Opaque, URL-safe continuation tokens that round-trip any key value.

A token is urlsafe base64 of JSON in which values that JSON cannot carry are
tagged: bytes, datetimes, dates, times, decimals, UUIDs, large ints. Tokens go
into query strings, so they must survive any key: quotes, unicode, binary.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from decimal import Decimal
from typing import Any

from connections.engines.base import EngineError

MAX_TOKEN_CHARS = 64_000


def _tag(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$b": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, dt.datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$d": value.isoformat()}
    if isinstance(value, dt.time):
        return {"$t": value.isoformat()}
    if isinstance(value, dt.timedelta):
        return {"$td": value.total_seconds()}
    if isinstance(value, Decimal):
        return {"$dec": str(value)}
    if isinstance(value, uuid.UUID):
        return {"$u": str(value)}
    kind = type(value).__name__
    if kind == "ObjectId":  # bson's, without importing pymongo here
        return {"$oid": str(value)}
    if kind == "Decimal128":
        return {"$d128": str(value)}
    if isinstance(value, bool) or value is None or isinstance(value, float | str):
        return value
    if isinstance(value, int):
        return value if abs(value) < 2**53 else {"$i": str(value)}
    if isinstance(value, list | tuple):
        return [_tag(v) for v in value]
    if isinstance(value, dict):
        return {"$o": {str(k): _tag(v) for k, v in value.items()}}
    return {"$s": str(value)}


def _untag(value: Any) -> Any:
    if isinstance(value, list):
        return [_untag(v) for v in value]
    if not isinstance(value, dict) or len(value) != 1:
        return value
    ((tag, raw),) = value.items()
    match tag:
        case "$b":
            return base64.b64decode(raw)
        case "$dt":
            return dt.datetime.fromisoformat(raw)
        case "$d":
            return dt.date.fromisoformat(raw)
        case "$t":
            return dt.time.fromisoformat(raw)
        case "$td":
            return dt.timedelta(seconds=raw)
        case "$dec":
            return Decimal(raw)
        case "$u":
            return uuid.UUID(raw)
        case "$i":
            return int(raw)
        case "$o":
            return {k: _untag(v) for k, v in raw.items()}
        case "$s":
            return raw
        case "$oid":
            from bson import ObjectId

            return ObjectId(raw)
        case "$d128":
            from bson.decimal128 import Decimal128

            return Decimal128(raw)
    return value


def encode(value: Any) -> str:
    text = json.dumps(_tag(value), separators=(",", ":"), ensure_ascii=True)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode(token: str) -> Any:
    if len(token) > MAX_TOKEN_CHARS:
        raise EngineError("That page link is too long; start again from the first page.", kind="config")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        return _untag(json.loads(raw))
    except (ValueError, TypeError, KeyError):
        raise EngineError("That page link is damaged; start again from the first page.", kind="config") from None
