"""Keyset pages and filters for SQL engines, compiled with each driver's quoting.

Order: the chosen sort column (if any) then the row key, so the order is total.
NULL sorts as +infinity (after every value ascending, before every value
descending), the same on every engine. A page is `WHERE <after cursor> ORDER BY
... LIMIT n+1`; "previous" runs the reversed order from the first row's
position and flips the rows back. Page cost is one index range scan, whatever
the depth.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from connections.engines.base import EngineError
from connections.engines.browse import Filter

MAX_IN_VALUES = 1000


@dataclass(frozen=True)
class Dialect:
    quote: Callable[[str], str]  # the driver's identifier quoting
    placeholder: str = "%s"
    nulls_last: bool = True  # understands "NULLS LAST" / "NULLS FIRST"
    row_values: bool = True  # (a, b) > (x, y) uses the index well
    as_text: str = "CAST({} AS TEXT)"
    like: str = "LIKE"
    like_escape: str = " ESCAPE '\\'"


@dataclass(frozen=True)
class OrderColumn:
    sql: str  # quoted column expression
    nullable: bool = False


def escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def compile_filters(dialect: Dialect, filters: Sequence[Filter], columns: set[str]) -> tuple[list[str], list[Any]]:
    """Parameterized predicates; unknown columns are refused, never interpolated."""
    clauses: list[str] = []
    args: list[Any] = []
    p = dialect.placeholder
    for f in filters:
        if f.column not in columns:
            raise EngineError(f"There is no column {f.column!r} to filter on.", kind="config")
        col = dialect.quote(f.column)
        match f.op:
            case "eq" | "ne" | "lt" | "gt":
                op = {"eq": "=", "ne": "<>", "lt": "<", "gt": ">"}[f.op]
                clauses.append(f"{col} {op} {p}")
                args.append(f.value)
            case "contains" | "startswith":
                pattern = escape_like(f.value) + "%"
                if f.op == "contains":
                    pattern = "%" + pattern
                clauses.append(f"{dialect.as_text.format(col)} {dialect.like} {p}{dialect.like_escape}")
                args.append(pattern)
            case "isnull":
                clauses.append(f"{col} IS NULL")
            case "notnull":
                clauses.append(f"{col} IS NOT NULL")
            case "in":
                values = [v.strip() for v in f.value.split(",")][:MAX_IN_VALUES]
                clauses.append(f"{col} IN ({', '.join([p] * len(values))})")
                args.extend(values)
            case _:
                raise EngineError(f"Unknown filter operator {f.op!r}.", kind="config")
    return clauses, args


def _after(dialect: Dialect, order: Sequence[OrderColumn], values: Sequence[Any], ascending: bool) -> tuple[str, list]:
    """The predicate "strictly after this position" in the given direction."""
    p = dialect.placeholder
    if dialect.row_values and not any(c.nullable for c in order) and len(order) > 1:
        op = ">" if ascending else "<"
        cols = ", ".join(c.sql for c in order)
        return f"({cols}) {op} ({', '.join([p] * len(order))})", list(values)
    terms: list[str] = []
    args: list[Any] = []
    for i, (col, value) in enumerate(zip(order, values, strict=True)):
        parts: list[str] = []
        part_args: list[Any] = []
        for prev_col, prev_value in zip(order[:i], values[:i], strict=True):
            if prev_value is None:
                parts.append(f"{prev_col.sql} IS NULL")
            else:
                parts.append(f"{prev_col.sql} = {p}")
                part_args.append(prev_value)
        if value is None:
            if ascending:
                continue  # nothing sorts after NULL (+infinity)
            parts.append(f"{col.sql} IS NOT NULL")
        elif ascending and col.nullable:
            parts.append(f"({col.sql} > {p} OR {col.sql} IS NULL)")
            part_args.append(value)
        else:
            parts.append(f"{col.sql} {'>' if ascending else '<'} {p}")
            part_args.append(value)
        terms.append("(" + " AND ".join(parts) + ")")
        args.extend(part_args)
    if not terms:
        return "1 = 0", []
    return "(" + " OR ".join(terms) + ")", args


def _order_by(dialect: Dialect, order: Sequence[OrderColumn], ascending: bool) -> str:
    parts = []
    for col in order:
        direction = "ASC" if ascending else "DESC"
        if not col.nullable:
            parts.append(f"{col.sql} {direction}")
        elif dialect.nulls_last:
            parts.append(f"{col.sql} {direction} NULLS {'LAST' if ascending else 'FIRST'}")
        else:
            parts.append(f"{col.sql} IS NULL {direction}, {col.sql} {direction}")
    return ", ".join(parts)


def page_sql(
    dialect: Dialect,
    *,
    select: str,
    source: str,
    order: Sequence[OrderColumn],
    position: Sequence[Any] | None,
    forward: bool,
    descending: bool,
    filters: Sequence[Filter],
    columns: set[str],
    limit: int,
) -> tuple[str, list[Any]]:
    """SELECT for one page. `forward` False means the page before `position` (rows come reversed)."""
    ascending = (not descending) == forward
    where, args = compile_filters(dialect, filters, columns)
    if position is not None:
        if len(position) != len(order):
            raise EngineError("That page link no longer fits this view; start from the first page.", kind="config")
        clause, clause_args = _after(dialect, order, position, ascending)
        where.append(clause)
        args.extend(clause_args)
    sql = f"SELECT {select} FROM {source}"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += f" ORDER BY {_order_by(dialect, order, ascending)} LIMIT {int(limit)}"
    return sql, args


def count_sql(dialect: Dialect, *, source: str, filters: Sequence[Filter], columns: set[str]) -> tuple[str, list[Any]]:
    where, args = compile_filters(dialect, filters, columns)
    sql = f"SELECT COUNT(*) FROM {source}"
    if where:
        sql += " WHERE " + " AND ".join(where)
    return sql, args
