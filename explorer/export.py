"""Writers for exports: rows in, bytes out, one row at a time."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import json
import uuid
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import Any


def _plain(value: Any) -> Any:
    if isinstance(value, memoryview | bytearray):
        value = bytes(value)
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return {"$binary": base64.b64encode(value).decode()}
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID | dt.timedelta):
        return str(value)
    return value


def csv_lines(columns: list[str], rows: Iterable[list[Any]]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> bytes:
        data = buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
        return data

    writer.writerow(columns)
    yield flush()
    for row in rows:
        out = []
        for value in row:
            value = _plain(value)
            out.append("" if value is None else json.dumps(value) if isinstance(value, dict | list) else value)
        writer.writerow(out)
        yield flush()


def json_lines(columns: list[str], rows: Iterable[list[Any]]) -> Iterator[bytes]:
    for row in rows:
        record = {c: _plain(v) for c, v in zip(columns, row, strict=False)}
        yield (json.dumps(record, ensure_ascii=False, default=str) + "\n").encode()


def insert_lines(statement: Callable[[list[Any]], str], rows: Iterable[list[Any]]) -> Iterator[bytes]:
    for row in rows:
        yield (statement(row) + ";\n").encode()
