"""Keyset pages and filters for SQL engines, compiled with each driver's quoting.

Invariants (property-tested on SQLite, PostgreSQL and MariaDB):

- Order: the chosen sort column (if any) then the row key, so the order is total.
  NULL sorts as +infinity (after every value ascending, before every value
  descending), the same on every engine.
- Every row is visited exactly once, forwards and backwards; "previous" runs the
  reversed order from the first row's position and flips the rows back.
- A page is one index range scan whenever an index serves the order: the order
  columns are qualified by the caller (an unqualified `ORDER BY "c"` would bind to
  an output alias of the same name), the ORDER BY carries no `IS NULL` prefix or
  NULLS clause, and a nullable sort column is walked as two ranges (its non-null
  rows, then its NULL rows) instead of one `c > ? OR c IS NULL` filter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from connections.engines.base import EngineError, refuse_nul
from connections.engines.browse import Filter

MAX_IN_VALUES = 1000


@dataclass(frozen=True)
class Dialect:
    quote_mark: str = '"'  # identifiers are quoted with it, and it is doubled inside them
    placeholder: str = "%s"
    row_values: bool = True  # (a, b) > (x, y) uses the index well
    # In the NULL range of a nullable sort column, order by the key alone: MariaDB
    # filesorts `WHERE c IS NULL ORDER BY c, k`, PostgreSQL needs `c` kept to use (c, k).
    null_range_key_order: bool = False
    as_text: str = "CAST({} AS TEXT)"
    like: str = "LIKE"
    like_escape: str = " ESCAPE '\\'"

    def quote(self, name: str) -> str:
        """A quoted identifier; `%` doubled too where statements are run with %s parameters."""
        refuse_nul(name)
        quoted = name.replace(self.quote_mark, self.quote_mark * 2)
        if self.placeholder == "%s":
            quoted = quoted.replace("%", "%%")
        return self.quote_mark + quoted + self.quote_mark


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
    """ "Strictly after this position" over order columns that are all non-null in the range walked."""
    p = dialect.placeholder
    op = ">" if ascending else "<"
    if len(order) == 1:
        return f"{order[0].sql} {op} {p}", [values[0]]
    if dialect.row_values:
        cols = ", ".join(c.sql for c in order)
        return f"({cols}) {op} ({', '.join([p] * len(order))})", list(values)
    # Expanded form. The leading `first >= v` (or `<=`) lets an optimizer that does not read
    # row values or ORs well (MariaDB) start a single index range at the position.
    terms: list[str] = []
    args: list[Any] = [values[0]]
    for i, col in enumerate(order):
        parts = [f"{prev.sql} = {p}" for prev in order[:i]] + [f"{col.sql} {op} {p}"]
        terms.append("(" + " AND ".join(parts) + ")")
        args.extend(values[: i + 1])
    return f"{order[0].sql} {op}= {p} AND ({' OR '.join(terms)})", args


def _order_by(order: Sequence[OrderColumn], ascending: bool) -> str:
    # No NULLS FIRST/LAST and no `col IS NULL` prefix: each range walks rows whose sort value
    # is either all non-null or all NULL, so the plain order is the index's own order.
    direction = "ASC" if ascending else "DESC"
    return ", ".join(f"{col.sql} {direction}" for col in order)


@dataclass(frozen=True)
class _Range:
    clauses: list[str]
    args: list[Any]
    nulls: bool = False  # walks the NULL rows of a nullable sort column


def _ranges(
    dialect: Dialect, order: Sequence[OrderColumn], position: Sequence[Any] | None, ascending: bool
) -> list[_Range]:
    """The index ranges that follow `position`, in walking order.

    A nullable first column splits the order in two ranges: its non-null rows and its NULL
    rows (NULL is +infinity, so ascending walks non-null then NULL, descending the reverse).
    Within each range every order column is non-null, so each is one index range scan.
    The order always ends with the row key, which is never NULL.
    """
    head, rest = order[0], order[1:]
    if not head.nullable or not rest:
        if position is None:
            return [_Range([], [])]
        clause, args = _after(dialect, order, position, ascending)
        return [_Range([clause], args)]
    not_null, is_null = f"{head.sql} IS NOT NULL", f"{head.sql} IS NULL"
    if position is None:
        both = [_Range([not_null], []), _Range([is_null], [], nulls=True)]
        return both if ascending else both[::-1]
    if position[0] is None:
        clause, args = _after(dialect, rest, position[1:], ascending)
        nulls = _Range([is_null, clause], args, nulls=True)
        return [nulls] if ascending else [nulls, _Range([not_null], [])]
    clause, args = _after(dialect, order, position, ascending)
    after_value = _Range([not_null, clause], args)
    return [after_value, _Range([is_null], [], nulls=True)] if ascending else [after_value]


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
) -> list[tuple[str, list[Any]]]:
    """SELECTs for one page, to run in turn until `limit` rows are in hand.

    `forward` False means the page before `position` (rows come reversed). Each statement is
    one index range in the order's direction; the second (if any) is only needed when the
    first runs out of rows.
    """
    ascending = (not descending) == forward
    where, args = compile_filters(dialect, filters, columns)
    if position is not None and len(position) != len(order):
        raise EngineError("That page link no longer fits this view; start from the first page.", kind="config")
    statements = []
    for walk in _ranges(dialect, order, position, ascending):
        sql = f"SELECT {select} FROM {source}"
        if where or walk.clauses:
            sql += " WHERE " + " AND ".join([*where, *walk.clauses])
        walked = order[1:] if walk.nulls and dialect.null_range_key_order else order
        sql += f" ORDER BY {_order_by(walked, ascending)} LIMIT {int(limit)}"
        statements.append((sql, [*args, *walk.args]))
    return statements


def count_sql(dialect: Dialect, *, source: str, filters: Sequence[Filter], columns: set[str]) -> tuple[str, list[Any]]:
    where, args = compile_filters(dialect, filters, columns)
    sql = f"SELECT COUNT(*) FROM {source}"
    if where:
        sql += " WHERE " + " AND ".join(where)
    return sql, args
