"""Each grid page is one index range scan: the engines' own plans show an index and no sort.

The statements are the ones the adapters really send (captured from `_execute`), for
page one in key order, and for deep pages sorted by an indexed nullable text column,
forwards and backwards, inside the non-null and the NULL part, with and without a filter.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg2
import pymysql
import pytest

from connections.engines import cursor
from connections.engines.base import ConnectionParams
from connections.engines.browse import Filter, PageRequest, TableBrowsing
from connections.engines.mysql.adapter import MySQLAdapter
from connections.engines.postgresql.adapter import PostgreSQLAdapter
from connections.engines.sqlbase import TAG, SqlAdapter
from connections.engines.sqlite.adapter import SQLiteAdapter
from tests.services import Servers

ROWS = 40_000
DB = "grid_plans"


def _rows() -> list[tuple[int, str | None, int]]:
    # Every 10th email is NULL; emails are not in id order, so sorting by them is real work.
    return [
        (i, None if i % 10 == 0 else f"user{(i * 7919) % ROWS:06d}@example.com", i % 13) for i in range(1, ROWS + 1)
    ]


@pytest.fixture(scope="module")
def adapters(servers: Servers, tmp_path_factory: Any) -> Iterator[dict[str, SqlAdapter]]:
    rows = _rows()
    pg, my = servers.postgresql, servers.mysql
    pgdb = psycopg2.connect(host=pg.host, port=pg.port, user=pg.username, password=pg.password, dbname=pg.database)
    pgdb.autocommit = True
    with pgdb.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS plan_people")
        cur.execute("CREATE TABLE plan_people (id int PRIMARY KEY, email text, grp int NOT NULL)")
        cur.execute(
            "INSERT INTO plan_people SELECT g, CASE WHEN g % 10 = 0 THEN NULL"
            f" ELSE 'user' || lpad(((g * 7919) % {ROWS})::text, 6, '0') || '@example.com' END, g % 13"
            f" FROM generate_series(1, {ROWS}) g"
        )
        # PostgreSQL's btree keeps equal keys in heap order, so (email, id) is the index for this order.
        cur.execute("CREATE INDEX plan_people_email ON plan_people (email, id)")
        cur.execute("VACUUM ANALYZE plan_people")
    pgdb.close()
    mydb = pymysql.connect(host=my.host, port=my.port, user=my.username, password=my.password, autocommit=True)
    with mydb.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {DB}")
        cur.execute(f"CREATE DATABASE {DB}")
        cur.execute(
            f"CREATE TABLE {DB}.plan_people (id int PRIMARY KEY, email varchar(64) NULL, grp int NOT NULL,"
            " KEY plan_people_email (email)) ENGINE=InnoDB"
        )
        for start in range(0, ROWS, 5000):
            cur.executemany(f"INSERT INTO {DB}.plan_people VALUES (%s, %s, %s)", rows[start : start + 5000])
        cur.execute(f"ANALYZE TABLE {DB}.plan_people")
    mydb.close()
    path: Path = tmp_path_factory.mktemp("plans") / "plans.sqlite3"
    with sqlite3.connect(path) as lite:
        lite.execute("CREATE TABLE plan_people (id INTEGER PRIMARY KEY, email TEXT, grp INTEGER NOT NULL)")
        lite.executemany("INSERT INTO plan_people VALUES (?, ?, ?)", rows)
        lite.execute("CREATE INDEX plan_people_email ON plan_people (email)")
        lite.execute("ANALYZE")
    common = {"username": "", "password": "", "tls_mode": "disable"}
    made = {
        "postgresql": PostgreSQLAdapter(
            ConnectionParams(
                engine="postgresql",
                host=pg.host,
                port=pg.port,
                database=pg.database,
                **(common | {"username": pg.username, "password": pg.password}),
            )
        ),
        "mysql": MySQLAdapter(
            ConnectionParams(
                engine="mysql",
                host=my.host,
                port=my.port,
                **(common | {"username": my.username, "password": my.password}),
            )
        ),
        "sqlite": SQLiteAdapter(ConnectionParams(engine="sqlite", database=str(path), **common)),
    }
    yield made  # type: ignore[misc]
    for adapter in made.values():
        adapter.close()


NS = {"postgresql": "public", "mysql": DB, "sqlite": "main"}


def statements(adapter: SqlAdapter, ns: str, request: PageRequest) -> list[tuple[str, list[Any]]]:
    """The page's statements as the adapter sends them (and the page, run for real)."""
    sent: list[tuple[str, list[Any]]] = []
    original = adapter._execute

    def spy(sql: str, args: Any = ()) -> list[tuple[Any, ...]]:
        sent.append((sql, list(args)))
        return original(sql, args)

    adapter._execute = spy  # type: ignore[method-assign]
    try:
        page = adapter.get(TableBrowsing).page(ns, "plan_people", request)
    finally:
        del adapter._execute
    assert page.rows, "the page must show rows"
    return [(sql, args) for sql, args in sent if "plan_people" in sql and sql.removeprefix(TAG).startswith("SELECT")]


def plan_problems(engine: str, adapter: SqlAdapter, sql: str, args: list[Any]) -> list[str]:
    """What in the engine's own plan says this is not one index range scan."""
    if engine == "postgresql":
        (plan,) = adapter._execute("EXPLAIN (FORMAT JSON) " + sql, args)[0][0]
        nodes: list[dict] = []

        def visit(node: dict) -> None:
            nodes.append(node)
            for child in node.get("Plans", []):
                visit(child)

        visit(plan["Plan"])
        kinds = [n["Node Type"] for n in nodes]
        problems = [f"{k} node" for k in kinds if "Sort" in k or k == "Seq Scan"]
        if not any(k.startswith("Index") for k in kinds):
            problems.append(f"no index scan in {kinds}")
        return problems
    if engine == "mysql":
        doc = json.loads(adapter._execute("EXPLAIN FORMAT=JSON " + sql, args)[0][0])
        text = json.dumps(doc)
        problems = []
        if '"filesort": true' in text.replace("using_filesort", "filesort") or "filesort" in text:
            problems.append("filesort")
        if '"access_type": "ALL"' in text:
            problems.append("full table scan")
        if '"key":' not in text:
            problems.append("no index")
        return problems
    rows = adapter._execute("EXPLAIN QUERY PLAN " + sql, args)
    details = [str(r[-1]) for r in rows]
    problems = [d for d in details if "TEMP B-TREE" in d]
    # A rowid table is its own index: `SCAN t` in rowid order stops at the LIMIT.
    wanted = "plan_people_email" if "email" in sql.split("ORDER BY")[-1] else ""
    if wanted and not any(wanted in d for d in details):
        problems.append(f"index {wanted} not used: {details}")
    return problems


def _position(email: str | None, id_: int) -> str:
    return cursor.encode([email, id_])


CASES = {
    "page one in key order": PageRequest(),
    "deep page in key order": PageRequest(cursor=cursor.encode([30_000])),
    "key order backwards": PageRequest(cursor=cursor.encode([30_000]), direction="prev"),
    "key order with a filter": PageRequest(filters=(Filter("grp", "eq", "3"),)),
    "sorted page one": PageRequest(sort="email"),
    "deep sorted page": PageRequest(sort="email", cursor=_position("user030000@example.com", 10)),
    "deep sorted page backwards": PageRequest(
        sort="email", cursor=_position("user030000@example.com", 10), direction="prev"
    ),
    "sorted descending": PageRequest(sort="email", descending=True, cursor=_position("user020000@example.com", 3)),
    "sorted inside the NULL part": PageRequest(sort="email", cursor=_position(None, 20_000)),
    "sorted backwards from the NULL part": PageRequest(sort="email", cursor=_position(None, 20_000), direction="prev"),
    "sorted with a filter": PageRequest(sort="email", filters=(Filter("grp", "gt", "2"),)),
}


@pytest.mark.parametrize("engine", ["postgresql", "mysql", "sqlite"])
@pytest.mark.parametrize("case", list(CASES))
def test_each_grid_page_is_an_index_range_scan_without_a_sort(
    adapters: dict[str, SqlAdapter], engine: str, case: str
) -> None:
    adapter = adapters[engine]
    sent = statements(adapter, NS[engine], CASES[case])
    assert sent
    for sql, args in sent:
        assert plan_problems(engine, adapter, sql, args) == [], sql


def test_a_page_that_runs_out_of_non_null_values_continues_into_the_null_part(
    adapters: dict[str, SqlAdapter],
) -> None:
    adapter = adapters["sqlite"]
    last = adapter._execute("SELECT email, id FROM plan_people WHERE email IS NOT NULL ORDER BY email DESC, id DESC")[0]
    page = adapter.get(TableBrowsing).page(
        "main", "plan_people", PageRequest(sort="email", cursor=_position(last[0], last[1] - 1))
    )
    emails = [row[1] for row in page.rows]
    assert emails[0] == last[0]
    assert emails[1:] == [None] * (len(emails) - 1)
    ids = [row[0] for row in page.rows[1:]]
    assert ids == sorted(ids) and ids[0] == 10
