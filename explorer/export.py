"""Writers for exports: rows in, bytes out, one row at a time."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import json
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
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


# A spreadsheet reads a cell starting with one of these as a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class FormulaGuard:
    """Prefixes text cells a spreadsheet would run as a formula with ', counting them.

    Only text is touched: numbers the driver returns as numbers (-2, -1.5, Decimal("-3"))
    are data a spreadsheet should read as numbers. `raw` turns the guard off for machines.
    """

    raw: bool = False
    cells: int = 0

    def text(self, value: str) -> str:
        if self.raw or not value.startswith(FORMULA_STARTS):
            return value
        self.cells += 1
        return "'" + value


def _csv_cell(value: Any, guard: FormulaGuard) -> Any:
    is_text = isinstance(value, str | bytes | bytearray | memoryview)
    value = _plain(value)
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value)
    if is_text and isinstance(value, str):
        return guard.text(value)
    return value


def csv_lines(columns: list[str], rows: Iterable[list[Any]], guard: FormulaGuard | None = None) -> Iterator[bytes]:
    guard = guard if guard is not None else FormulaGuard()
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> bytes:
        data = buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
        return data

    writer.writerow([guard.text(c) for c in columns])  # column names are text someone chose, too
    yield flush()
    for row in rows:
        writer.writerow([_csv_cell(value, guard) for value in row])
        yield flush()


def json_lines(columns: list[str], rows: Iterable[list[Any]]) -> Iterator[bytes]:
    for row in rows:
        record = {c: _plain(v) for c, v in zip(columns, row, strict=False)}
        yield (json.dumps(record, ensure_ascii=False, default=str) + "\n").encode()


def insert_lines(statement: Callable[[list[Any]], str], rows: Iterable[list[Any]]) -> Iterator[bytes]:
    for row in rows:
        yield (statement(row) + ";\n").encode()
