"""A result page as HTML, built once by the host in plain Python: every value and name escaped here.

The page is written once and read many times (each poll, each process), so it is stored
rendered: the web process sends it as it is instead of decoding and templating thousands
of cells per request. Nothing reaches the markup without `escape`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from html import escape as _escape
from typing import Any

from django.utils.html import escape

from explorer.cells import cell


def head(columns: Sequence[str]) -> str:
    names = "".join(f"<th>{escape(name)}</th>" for name in columns)
    return f'<thead><tr><th class="num">#</th>{names}</tr></thead>'


def body(rows: Sequence[Sequence[Any]], first_row: int) -> str:
    """Table rows; plain values take a short path, everything else goes through the grid's `cell`."""
    out: list[str] = []
    add = out.append
    for number, row in enumerate(rows, first_row):
        add(f'<tr><td class="num muted">{number}</td>')
        for value in row:
            kind = type(value)
            if kind is str and value and value.isprintable():
                add(f'<td class="v-text">{_escape(value)}</td>')
            elif kind is int or kind is float or kind is Decimal:
                add(f'<td class="v-number">{value}</td>')
            elif kind is dt.datetime:
                add(f'<td class="v-date">{value.isoformat(sep=" ")}</td>')
            elif value is None:
                add('<td class="v-null">NULL</td>')
            else:
                c = cell(value)
                css = f"v-{c.kind} v-cut" if c.cut else f"v-{c.kind}"
                add(f'<td class="{css}">{_escape(c.text)}</td>')
        add("</tr>")
    return "".join(out)
