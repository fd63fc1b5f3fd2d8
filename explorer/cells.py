"""How a value looks in the grid and detail views: NULL, empty, binary, JSON, dates,
numbers and long text each render distinctly, and always as inert text."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from connections.engines.browse import Cut

HEX_PREVIEW_BYTES = 32


@dataclass(frozen=True)
class Cell:
    kind: str  # null, empty, text, number, bool, binary, json, date, other
    text: str
    cut: bool = False
    length: int | None = None

    @property
    def css(self) -> str:
        return f"v-{self.kind}" + (" v-cut" if self.cut else "")


def _hex(data: bytes, limit: int) -> str:
    shown = data[:limit].hex(" ")
    return shown + (" …" if len(data) > limit else "")


def _looks_like_json(text: str) -> bool:
    text = text.strip()
    return len(text) > 1 and text[0] in "{[" and text[-1] in "}]"


NULL = Cell("null", "NULL")
EMPTY = Cell("empty", "''")


def cell(value: Any, *, pretty: bool = False, hex_bytes: int = HEX_PREVIEW_BYTES) -> Cell:
    # The grid calls this for every cell of a page: plain text and numbers first, cheaply.
    kind = type(value)
    if kind is str and not pretty:
        if not value:
            return EMPTY
        if value.isprintable():
            return Cell("text", value)
    elif kind is int or kind is float:
        return Cell("number", str(value))
    elif value is None:
        return NULL
    cut, length = False, None
    if isinstance(value, Cut):
        cut, length, value = True, value.length, value.value
    if value is None:
        return Cell("null", "NULL")
    if isinstance(value, memoryview | bytearray):
        value = bytes(value)
    if isinstance(value, bytes):
        size = length or len(value)
        try:
            text = value.decode("utf-8")
            if text.isprintable() or not text:
                return Cell("text" if text else "empty", text or "''", cut, length)
        except UnicodeDecodeError:
            pass
        return Cell("binary", f"0x {_hex(value, hex_bytes)}  ({size:,} bytes)", cut, size)
    if isinstance(value, bool):
        return Cell("bool", "true" if value else "false")
    if isinstance(value, int | float | Decimal):
        return Cell("number", str(value))
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return Cell("date", value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat())
    if isinstance(value, uuid.UUID):
        return Cell("other", str(value))
    if isinstance(value, dict | list):
        dumped = json.dumps(value, indent=2 if pretty else None, ensure_ascii=False, default=str)
        return Cell("json", dumped, cut, length)
    if isinstance(value, str):
        if value == "":
            return Cell("empty", "''")
        if pretty and not cut and _looks_like_json(value):
            try:
                return Cell("json", json.dumps(json.loads(value), indent=2, ensure_ascii=False))
            except ValueError:
                pass
        # NUL and other control characters are shown escaped, never passed through.
        if not value.isprintable():
            value = "".join(c if c.isprintable() or c in "\n\t" else f"\\x{ord(c):02x}" for c in value)
        return Cell("text", value, cut, length)
    return Cell("other", str(value), cut, length)
