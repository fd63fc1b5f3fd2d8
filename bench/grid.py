"""Grid depth and overhead, through HTTP as users page: key order and a sort on an indexed
nullable text column, page one against a page at 80% depth, on every SQL engine."""

from __future__ import annotations

import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench.common import LiveApp, Result, alternate
from connections.engines import cursor

PG_ROWS = 5_000_000
MYSQL_ROWS = 1_000_000
SQLITE_ROWS = (250_000, 5_000_000)
MONGO_DOCS = 500_000
DEPTH = 0.8
STATUSES = ("new", "paid", "shipped", "done")


def _note(i: int) -> str | None:
    """Nullable text, not in id order: every 10th row has none."""
    return None if i % 10 == 0 else f"note {(i * 7919) % 1_000_003:07d}"


def _grid_path(conn: Any, ns: str, obj: str, after: Any = None, sort: str | None = None) -> str:
    query = {"ns": ns, "obj": obj}
    if sort:
        query["sort"] = sort
    if after is not None:
        query["after"] = cursor.encode(after)
    return f"/connections/{conn.pk}/browse/?{urlencode(query)}"


def _depth_results(
    label: str, app: LiveApp, conn: Any, ns: str, key_at: int, sorted_at: list[Any], runs: int = 9
) -> list[Result]:
    """Page one vs a page at 80% depth, in key order and sorted by the nullable `note`."""
    times = alternate(
        {
            "first": lambda: app.get(_grid_path(conn, ns, "bench_orders")),
            "deep": lambda: app.get(_grid_path(conn, ns, "bench_orders", after=[key_at])),
            "sorted first": lambda: app.get(_grid_path(conn, ns, "bench_orders", sort="note")),
            "sorted deep": lambda: app.get(_grid_path(conn, ns, "bench_orders", after=sorted_at, sort="note")),
        },
        runs=runs,
    )
    return [
        Result(f"{label}: key order, page at 80% vs page one", times["deep"], times["first"], "ms", "<= 1.5"),
        Result(
            f"{label}: sorted by nullable indexed text, 80% vs page one",
            times["sorted deep"],
            times["sorted first"],
            "ms",
            "<= 1.5",
        ),
    ]


def postgresql(app: LiveApp, server: Any) -> list[Result]:
    import psycopg2

    def connect() -> Any:
        return psycopg2.connect(
            host=server.host, port=server.port, user=server.username, password=server.password, dbname=server.database
        )

    db = connect()
    db.autocommit = True
    started = time.monotonic()
    with db.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_orders")
        cur.execute(
            "CREATE UNLOGGED TABLE bench_orders (id bigint, customer_id int, status text, amount numeric(12,2),"
            " created timestamptz, note text)"
        )
        cur.execute(
            "INSERT INTO bench_orders SELECT g, g % 50000, (ARRAY['new','paid','shipped','done'])[1 + g % 4],"
            " (g % 100000) / 100.0, timestamptz '2020-01-01' + g * interval '1 minute',"
            " CASE WHEN g % 10 = 0 THEN NULL ELSE 'note ' || lpad(((g::bigint * 7919) % 1000003)::text, 7, '0') END"
            f" FROM generate_series(1, {PG_ROWS}) g"
        )
        cur.execute("ALTER TABLE bench_orders ADD PRIMARY KEY (id)")
        # PostgreSQL keeps equal btree keys in heap order, so the index for "sort by note" is (note, id).
        cur.execute("CREATE INDEX bench_orders_note ON bench_orders (note, id)")
        cur.execute("VACUUM ANALYZE bench_orders")
        cur.execute("DROP TABLE IF EXISTS bench_empty")
        cur.execute("CREATE TABLE bench_empty (LIKE bench_orders INCLUDING ALL)")
        cur.execute(
            "SELECT note, id FROM bench_orders WHERE note IS NOT NULL ORDER BY note, id OFFSET %s LIMIT 1",
            [int(PG_ROWS * 0.9 * DEPTH)],
        )
        sorted_at = list(cur.fetchone())
    print(f"  loaded {PG_ROWS:,} PostgreSQL rows in {time.monotonic() - started:.0f} s")
    conn = app.connection(server)
    results = _depth_results(f"PostgreSQL {PG_ROWS:,} rows", app, conn, "public", int(PG_ROWS * DEPTH), sorted_at)

    statement = "SELECT id, customer_id, status, amount, created, note FROM bench_orders ORDER BY id LIMIT 100"

    def connect_and_query() -> None:
        c = connect()
        with c.cursor() as cur:
            cur.execute(statement)
            cur.fetchall()
        c.close()

    def open_query() -> None:
        with db.cursor() as cur:
            cur.execute(statement)
            cur.fetchall()

    page_one = _grid_path(conn, "public", "bench_orders")
    # Two separate alternations: a connection per sample starts and ends a server process, whose
    # exit runs on after close() returns and lands on whichever sample comes next (on two cores it
    # added about 2 ms to the HTTP page beside it), so it is kept away from the like-for-like pair.
    pooled = alternate({"http": lambda: app.get(page_one), "open": open_query}, runs=101, warmup=10)
    # A pager or sort click asks for the grid alone (htmx swaps it in place): no page chrome.
    swap = {"HX-Request": "true"}
    swapped = alternate({"swap": lambda: app.get(page_one, swap), "open": open_query}, runs=101, warmup=10)
    # The same page of an empty table of the same columns: what the page costs before its rows.
    empty_page = _grid_path(conn, "public", "bench_empty")
    empty = alternate({"empty": lambda: app.get(empty_page), "open": open_query}, runs=101, warmup=10)
    fresh = alternate({"http": lambda: app.get(page_one), "connect": connect_and_query}, runs=15, warmup=3)
    db.close()
    return [
        *results,
        Result(
            "PostgreSQL: HTTP page one vs the bare query on an open connection",
            pooled["http"],
            pooled["open"],
            "ms",
            "<= 10",
        ),
        Result(
            "PostgreSQL: grid swap (htmx, no chrome) vs the bare query", swapped["swap"], swapped["open"], "ms", "info"
        ),
        Result("PostgreSQL: the page of an empty table vs the bare query", empty["empty"], empty["open"], "ms", "info"),
        Result("PostgreSQL: HTTP page one vs connect + the bare query", fresh["http"], fresh["connect"], "ms", "info"),
    ]


def mysql(app: LiveApp, server: Any) -> list[Result]:
    import pymysql

    db = pymysql.connect(
        host=server.host,
        port=server.port,
        user=server.username,
        password=server.password,
        database=server.database,
        autocommit=True,
    )
    started = time.monotonic()
    with db.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_orders")
        cur.execute(
            "CREATE TABLE bench_orders (id bigint PRIMARY KEY, customer_id int, status varchar(16),"
            " amount decimal(12,2), created datetime, note varchar(64) NULL, KEY bench_orders_note (note))"
            " ENGINE=InnoDB"
        )
        batch = 20_000
        for start in range(1, MYSQL_ROWS + 1, batch):
            rows = [
                (i, i % 50000, STATUSES[i % 4], (i % 100000) / 100, "2020-01-01 00:00:00", _note(i))
                for i in range(start, min(start + batch, MYSQL_ROWS + 1))
            ]
            cur.executemany("INSERT INTO bench_orders VALUES (%s, %s, %s, %s, %s, %s)", rows)
        cur.execute("ANALYZE TABLE bench_orders")
        cur.execute(
            "SELECT note, id FROM bench_orders WHERE note IS NOT NULL ORDER BY note, id LIMIT 1 OFFSET %s",
            [int(MYSQL_ROWS * 0.9 * DEPTH)],
        )
        sorted_at = list(cur.fetchone())
    print(f"  loaded {MYSQL_ROWS:,} MariaDB rows in {time.monotonic() - started:.0f} s")
    conn = app.connection(server)
    db.close()
    return _depth_results(
        f"MariaDB {MYSQL_ROWS:,} rows", app, conn, server.database, int(MYSQL_ROWS * DEPTH), sorted_at
    )


def _sqlite_file(rows: int, folder: Path) -> tuple[Path, list[Any]]:
    path = folder / f"bench-{rows}.sqlite3"
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    db.execute(
        "CREATE TABLE bench_orders (id INTEGER PRIMARY KEY, customer_id INTEGER, status TEXT, amount REAL,"
        " created TEXT, note TEXT)"
    )
    batch = 50_000
    for start in range(1, rows + 1, batch):
        db.executemany(
            "INSERT INTO bench_orders VALUES (?, ?, ?, ?, ?, ?)",
            (
                (i, i % 50000, STATUSES[i % 4], (i % 100000) / 100, "2020-01-01 00:00:00", _note(i))
                for i in range(start, min(start + batch, rows + 1))
            ),
        )
    db.execute("CREATE INDEX bench_orders_note ON bench_orders (note)")
    db.execute("ANALYZE")
    db.commit()
    sorted_at = list(
        db.execute(
            "SELECT note, id FROM bench_orders WHERE note IS NOT NULL ORDER BY note, id LIMIT 1 OFFSET ?",
            [int(rows * 0.9 * DEPTH)],
        ).fetchone()
    )
    db.close()
    return path, sorted_at


def sqlite(app: LiveApp) -> list[Result]:
    from connections.models import Connection
    from connections.policy import team_folders

    results: list[Result] = []
    folder = Path(tempfile.mkdtemp(prefix="bench-sqlite-", dir=team_folders(app.team.pk, create=True)[0]))
    for rows in SQLITE_ROWS:
        started = time.monotonic()
        path, sorted_at = _sqlite_file(rows, folder)
        print(f"  built a {rows:,}-row SQLite file in {time.monotonic() - started:.0f} s")
        conn = Connection.objects.create(
            team=app.team, name=f"bench sqlite {rows}", engine="sqlite", database=str(path)
        )
        results += _depth_results(f"SQLite {rows:,} rows", app, conn, "main", int(rows * DEPTH), sorted_at)
    return results


def mongodb(app: LiveApp, server: Any) -> list[Result]:
    from pymongo import MongoClient

    client = MongoClient(
        host=server.host,
        port=server.port,
        username=server.username,
        password=server.password,
        authSource=server.extra.get("auth_source", "admin"),
        directConnection=True,
    )
    coll = client["bench"]["orders"]
    coll.drop()
    started = time.monotonic()
    batch = 10_000
    for start in range(0, MONGO_DOCS, batch):
        coll.insert_many(
            [
                {"_id": i, "customer": i % 50000, "status": STATUSES[i % 4], "amount": i % 1000}
                for i in range(start, min(start + batch, MONGO_DOCS))
            ],
            ordered=False,
        )
    print(f"  loaded {MONGO_DOCS:,} MongoDB documents in {time.monotonic() - started:.0f} s")
    conn = app.connection(server, database="", options={"auth_source": server.extra.get("auth_source", "admin")})
    # SecantusDB answers every query by scanning in Python, so pages take seconds: few runs.
    at = int(MONGO_DOCS * DEPTH)
    times = alternate(
        {
            "first": lambda: app.get(_grid_path(conn, "bench", "orders")),
            "deep": lambda: app.get(_grid_path(conn, "bench", "orders", after=[at])),
        },
        runs=3,
        warmup=1,
    )
    client.close()
    return [
        Result(
            f"MongoDB (SecantusDB) {MONGO_DOCS:,} docs: page at 80% vs page one",
            times["deep"],
            times["first"],
            "ms",
            "info: the peer scans",
        )
    ]
