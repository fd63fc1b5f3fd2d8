"""Grid depth and overhead: a deep keyset page costs what page one costs, on every engine."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

from bench.common import LiveApp, Result, median_ms
from connections.engines import cursor

PG_ROWS = 5_000_000
MYSQL_ROWS = 1_000_000
MONGO_DOCS = 500_000


def _grid_path(conn: Any, ns: str, obj: str, after: Any = None) -> str:
    query = {"ns": ns, "obj": obj}
    if after is not None:
        query["after"] = cursor.encode(after)
    return f"/connections/{conn.pk}/browse/?{urlencode(query)}"


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
            " (g % 100000) / 100.0, timestamptz '2020-01-01' + g * interval '1 minute', 'note ' || g"
            f" FROM generate_series(1, {PG_ROWS}) g"
        )
        cur.execute("ALTER TABLE bench_orders ADD PRIMARY KEY (id)")
        cur.execute("VACUUM ANALYZE bench_orders")
    print(f"  loaded {PG_ROWS:,} PostgreSQL rows in {time.monotonic() - started:.0f} s")
    conn = app.connection(server)

    def raw_page() -> None:
        # What any page must do at least: connect, run the 100-row query, fetch, close.
        c = connect()
        with c.cursor() as cur:
            cur.execute("SELECT id, customer_id, status, amount, created, note FROM bench_orders ORDER BY id LIMIT 100")
            cur.fetchall()
        c.close()

    def warm_query() -> None:
        with db.cursor() as cur:
            cur.execute("SELECT id, customer_id, status, amount, created, note FROM bench_orders ORDER BY id LIMIT 100")
            cur.fetchall()

    first = median_ms(lambda: app.get(_grid_path(conn, "public", "bench_orders")), runs=25)
    deep = median_ms(lambda: app.get(_grid_path(conn, "public", "bench_orders", after=[4_000_000])), runs=25)
    raw = median_ms(raw_page, runs=25)
    warm = median_ms(warm_query, runs=25)
    db.close()
    return [
        Result(f"PostgreSQL {PG_ROWS:,} rows: grid page at row 4,000,000", deep, first, "ms", "<= 1.5x page one"),
        Result("PostgreSQL: grid page one over HTTP vs raw psycopg2 (connect+query)", first, raw, "ms", "<= 3x raw"),
        Result("PostgreSQL: same, vs the bare query on an open connection", first, warm, "ms", "information"),
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
            " amount decimal(12,2), created datetime, note varchar(64)) ENGINE=InnoDB"
        )
        batch = 20_000
        for start in range(1, MYSQL_ROWS + 1, batch):
            rows = [
                (
                    i,
                    i % 50000,
                    ("new", "paid", "shipped", "done")[i % 4],
                    (i % 100000) / 100,
                    "2020-01-01 00:00:00",
                    f"note {i}",
                )
                for i in range(start, min(start + batch, MYSQL_ROWS + 1))
            ]
            cur.executemany("INSERT INTO bench_orders VALUES (%s, %s, %s, %s, %s, %s)", rows)
        cur.execute("ANALYZE TABLE bench_orders")
    print(f"  loaded {MYSQL_ROWS:,} MariaDB rows in {time.monotonic() - started:.0f} s")
    conn = app.connection(server)
    ns = server.database
    first = median_ms(lambda: app.get(_grid_path(conn, ns, "bench_orders")))
    deep = median_ms(lambda: app.get(_grid_path(conn, ns, "bench_orders", after=[800_000])))
    db.close()
    return [Result(f"MariaDB {MYSQL_ROWS:,} rows: grid page at row 800,000", deep, first, "ms", "<= 1.5x page one")]


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
                {
                    "_id": i,
                    "customer": i % 50000,
                    "status": ("new", "paid", "shipped")[i % 3],
                    "amount": i % 1000,
                    "items": [{"sku": f"S{i % 97}", "qty": 1 + i % 3}],
                }
                for i in range(start, min(start + batch, MONGO_DOCS))
            ],
            ordered=False,
        )
    print(f"  loaded {MONGO_DOCS:,} MongoDB documents in {time.monotonic() - started:.0f} s")
    conn = app.connection(server, database="", options={"auth_source": server.extra.get("auth_source", "admin")})
    # SecantusDB answers range queries by scanning, so each page takes seconds: few runs.
    first = median_ms(lambda: app.get(_grid_path(conn, "bench", "orders")), runs=3, warmup=1)
    deep = median_ms(lambda: app.get(_grid_path(conn, "bench", "orders", after=[400_000])), runs=3, warmup=1)
    client.close()
    return [
        Result(
            f"MongoDB {MONGO_DOCS:,} documents: grid page at document 400,000", deep, first, "ms", "<= 1.5x page one"
        )
    ]
