"""Keyset paging visits every row exactly once, forwards and backwards, NULLs included."""

from __future__ import annotations

import sqlite3
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from connections.engines.browse import Filter
from connections.engines.sqlkeyset import Dialect, OrderColumn, compile_filters, page_sql

DIALECT = Dialect(quote=lambda name: '"' + name.replace('"', '""') + '"', placeholder="?")
MYSQL_LIKE = Dialect(quote=DIALECT.quote, placeholder="?", nulls_last=False, row_values=False)


def walk(
    db: sqlite3.Connection, dialect: Dialect, sort_nullable: bool, descending: bool, limit: int
) -> tuple[list, list]:
    order = [OrderColumn('"s"', nullable=sort_nullable), OrderColumn('"id"')]
    forward_rows: list[Any] = []
    pages: list[list[Any]] = []
    position = None
    while True:
        sql, args = page_sql(
            dialect,
            select='"id", "s"',
            source='"t"',
            order=order,
            position=position,
            forward=True,
            descending=descending,
            filters=[],
            columns={"id", "s"},
            limit=limit,
        )
        rows = db.execute(sql, args).fetchall()
        if not rows:
            break
        pages.append(rows)
        forward_rows.extend(rows)
        position = (rows[-1][1], rows[-1][0])
    backward_rows: list[Any] = []
    position = (pages[-1][0][1], pages[-1][0][0]) if pages else None
    backward_rows = list(pages[-1]) if pages else []
    while position is not None:
        sql, args = page_sql(
            dialect,
            select='"id", "s"',
            source='"t"',
            order=order,
            position=position,
            forward=False,
            descending=descending,
            filters=[],
            columns={"id", "s"},
            limit=limit,
        )
        rows = db.execute(sql, args).fetchall()[::-1]
        if not rows:
            break
        backward_rows = rows + backward_rows
        position = (rows[0][1], rows[0][0])
    return forward_rows, backward_rows


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.one_of(st.none(), st.integers(-3, 3)), max_size=40),
    limit=st.integers(1, 7),
    descending=st.booleans(),
    mysql_style=st.booleans(),
)
def test_pages_cover_every_row_once_in_a_total_order(
    values: list[int | None], limit: int, descending: bool, mysql_style: bool
) -> None:
    db = sqlite3.connect(":memory:")
    db.execute('CREATE TABLE t ("id" INTEGER PRIMARY KEY, "s" INTEGER)')
    db.executemany('INSERT INTO t ("s") VALUES (?)', [(v,) for v in values])
    expected = sorted(
        db.execute('SELECT "id", "s" FROM t').fetchall(),
        key=lambda r: (r[1] is None, r[1] if r[1] is not None else 0, r[0]),
        reverse=descending,
    )
    forward, backward = walk(db, MYSQL_LIKE if mysql_style else DIALECT, True, descending, limit)
    assert forward == expected
    assert backward == expected


def test_hostile_filter_values_are_parameters_and_unknown_columns_are_refused() -> None:
    import pytest

    from connections.engines.base import EngineError

    db = sqlite3.connect(":memory:")
    db.execute('CREATE TABLE t ("id" INTEGER PRIMARY KEY, "we\'ird ""name""" TEXT)')
    db.execute("INSERT INTO t VALUES (1, ?)", ("50%_off'; DROP TABLE t; --",))
    db.execute("INSERT INTO t VALUES (2, '50 percent')")
    where, args = compile_filters(DIALECT, [Filter('we\'ird "name"', "contains", "50%_off'")], {'we\'ird "name"'})
    rows = db.execute("SELECT id FROM t WHERE " + " AND ".join(where), args).fetchall()
    assert rows == [(1,)]
    with pytest.raises(EngineError):
        compile_filters(DIALECT, [Filter("id; DROP TABLE t", "eq", "1")], {"id"})
