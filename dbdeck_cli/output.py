"""Writing results: CSV or JSON to stdout, and small aligned tables for people."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    rows = [[str(v) for v in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for row in rows:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


def json_lines(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    for row in rows:
        print(json.dumps(dict(zip(headers, row, strict=False)), ensure_ascii=False))
