"""Keyset paging visits every row exactly once, forwards and backwards, NULLs included,
on SQLite and on the real PostgreSQL and MariaDB servers."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from typing import Any

import psycopg2
import pymysql
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connections.engines.base import EngineError
from connections.engines.browse import Filter
from connections.engines.mysql.adapter import MySQLAdapter
from connections.engines.postgresql.adapter import PostgreSQLAdapter
from connections.engines.sqlite.adapter import SQLiteAdapter
from connections.engines.sqlkeyset import Dialect, OrderColumn, compile_filters, page_sql
from tests.services import Servers

Execute = Callable[[str, list[Any]], list[tuple[Any, ...]]]
SORTS = ["key", "nullable", "not_null"]


class Engine:
    """One real server (or SQLite file) with table t(k1, k2, s nullable, n not null), key (k1, k2)."""

    def __init__(self, name: str, dialect: Dialect, db: Any) -> None:
        self.name, self.dialect, self.db = name, dialect, db

    def execute(self, sql: str, args: list[Any]) -> list[tuple[Any, ...]]:
        if self.name == "sqlite":
            return self.db.execute(sql, args).fetchall()
        with self.db.cursor() as cur:
            cur.execute(sql, args)
            return [tuple(r) for r in cur.fetchall()] if cur.description else []

    def load(self, values: list[int | None]) -> None:
        p = self.dialect.placeholder
        self.execute("DELETE FROM t", [])
        for i, v in enumerate(values):
            self.execute(f"INSERT INTO t (k1, k2, s, n) VALUES ({p}, {p}, {p}, {p})", [i % 3, i, v, (v or 0) % 2])


@pytest.fixture(scope="module")
def engines(servers: Servers, tmp_path_factory: Any) -> Iterator[dict[str, Engine]]:
    ddl = "CREATE TABLE t (k1 int NOT NULL, k2 int NOT NULL, s int NULL, n int NOT NULL, PRIMARY KEY (k1, k2))"
    lite = sqlite3.connect(tmp_path_factory.mktemp("keyset") / "k.sqlite3", isolation_level=None)
    lite.execute(ddl)
    pg = servers.postgresql
    pgdb = psycopg2.connect(host=pg.host, port=pg.port, user=pg.username, password=pg.password, dbname=pg.database)
    pgdb.autocommit = True
    my = servers.mysql
    mydb = pymysql.connect(host=my.host, port=my.port, user=my.username, password=my.password, autocommit=True)
    with pgdb.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS t")
        cur.execute(ddl)
    with mydb.cursor() as cur:
        cur.execute("CREATE DATABASE IF NOT EXISTS keyset_prop")
        cur.execute("USE keyset_prop")
        cur.execute("DROP TABLE IF EXISTS t")
        cur.execute(ddl + " ENGINE=InnoDB")
    yield {
        "sqlite": Engine("sqlite", SQLiteAdapter.dialect, lite),
        "postgresql": Engine("postgresql", PostgreSQLAdapter.dialect, pgdb),
        "mysql": Engine("mysql", MySQLAdapter.dialect, mydb),
    }
    lite.close()
    pgdb.close()
    mydb.close()


def _order(engine: Engine, sort: str) -> list[OrderColumn]:
    q = engine.dialect.quote
    head = {"key": [], "nullable": [OrderColumn(q("s"), nullable=True)], "not_null": [OrderColumn(q("n"))]}[sort]
    return [*head, OrderColumn(q("k1")), OrderColumn(q("k2"))]


def _page(engine: Engine, order: list[OrderColumn], position: Any, forward: bool, descending: bool, limit: int) -> list:
    width = len(order)
    select = ", ".join(c.sql for c in order)
    rows: list[tuple[Any, ...]] = []
    for sql, args in page_sql(
        engine.dialect,
        select=select,
        source="t",
        order=order,
        position=position,
        forward=forward,
        descending=descending,
        filters=[],
        columns={"k1", "k2", "s", "n"},
        limit=limit,
    ):
        rows.extend(engine.execute(sql, args))
        if len(rows) >= limit:
            break
    rows = [tuple(r[:width]) for r in rows[:limit]]
    return rows if forward else rows[::-1]


def walk(engine: Engine, sort: str, descending: bool, limit: int) -> tuple[list, list]:
    """All rows page by page forwards, then from the last page backwards."""
    order = _order(engine, sort)
    forward: list[tuple[Any, ...]] = []
    position = None
    for _ in range(1000):
        rows = _page(engine, order, position, True, descending, limit)
        if not rows:
            break
        forward.extend(rows)
        position = rows[-1]
    backward: list[tuple[Any, ...]] = []
    position = forward[-1] if forward else None
    backward = [forward[-1]] if forward else []
    for _ in range(1000):
        if position is None:
            break
        rows = _page(engine, order, position, False, descending, limit)
        if not rows:
            break
        backward = rows + backward
        position = rows[0]
    return forward, backward


def expected(engine: Engine, sort: str, descending: bool) -> list[tuple[Any, ...]]:
    order = _order(engine, sort)
    rows = engine.execute(f"SELECT {', '.join(c.sql for c in order)} FROM t", [])
    # NULL is +infinity, whatever the engine's own default.
    return sorted(
        (tuple(r) for r in rows),
        key=lambda r: tuple((v is None, v if v is not None else 0) for v in r),
        reverse=descending,
    )


@pytest.mark.parametrize("name", ["sqlite", "postgresql", "mysql"])
@pytest.mark.parametrize("sort", SORTS)
def test_pages_cover_every_row_once_in_a_total_order(engines: dict[str, Engine], name: str, sort: str) -> None:
    engine = engines[name]

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        values=st.lists(st.one_of(st.none(), st.integers(-3, 3)), max_size=30),
        limit=st.integers(1, 7),
        descending=st.booleans(),
    )
    def check(values: list[int | None], limit: int, descending: bool) -> None:
        engine.load(values)
        forward, backward = walk(engine, sort, descending, limit)
        want = expected(engine, sort, descending)
        assert forward == want
        assert backward == want

    check()


def test_a_page_link_of_the_wrong_width_is_refused() -> None:
    dialect = SQLiteAdapter.dialect
    with pytest.raises(EngineError):
        page_sql(
            dialect,
            select="1",
            source="t",
            order=[OrderColumn('"id"')],
            position=[1, 2],
            forward=True,
            descending=False,
            filters=[],
            columns={"id"},
            limit=10,
        )


def test_hostile_filter_values_are_parameters_and_unknown_columns_are_refused() -> None:
    dialect = SQLiteAdapter.dialect
    db = sqlite3.connect(":memory:")
    db.execute('CREATE TABLE t ("id" INTEGER PRIMARY KEY, "we\'ird ""name""" TEXT)')
    db.execute("INSERT INTO t VALUES (1, ?)", ("50%_off'; DROP TABLE t; --",))
    db.execute("INSERT INTO t VALUES (2, '50 percent')")
    where, args = compile_filters(dialect, [Filter('we\'ird "name"', "contains", "50%_off'")], {'we\'ird "name"'})
    rows = db.execute("SELECT id FROM t WHERE " + " AND ".join(where), args).fetchall()
    assert rows == [(1,)]
    with pytest.raises(EngineError):
        compile_filters(dialect, [Filter("id; DROP TABLE t", "eq", "1")], {"id"})
