"""Hostile tables on the real PostgreSQL, MariaDB and SQLite servers, shared by explorer tests."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg2
import pymysql
from psycopg2 import sql as pgsql

from tests.services import Servers

SCHEMA = 'sch\'ema "q" 名'
TABLE = "ta'b\"le`]; <script>alert(1)</script> 表"
PARENT = 'pa`rent" 親'
NOKEY = "no key ' 100% table"
COL_NAME = "na\"me'`"
XSS = "<img src=x onerror=alert(1)>"
ROWS = 250
NOKEY_ROWS = 250  # more than two pages of 100


@dataclass
class SqlTarget:
    engine: str
    ns: str
    connection_fields: dict[str, Any]
    execute: Any  # callable(sql_with_{}_idents, idents, params) for assertions

    def scalar(self, query: str, *params: Any) -> Any:
        return self.execute(query, params)[0][0]

    def quote(self, name: str) -> str:
        mark = "`" if self.engine == "mysql" else '"'
        return mark + name.replace(mark, mark * 2) + mark

    def table(self, name: str) -> str:
        return f"{self.quote(self.ns)}.{self.quote(name)}"


def _rows() -> list[tuple[Any, ...]]:
    rows = []
    for i in range(1, ROWS + 1):
        name = {1: XSS, 2: "", 3: None, 4: "unicode ✓ 名前 🚀", 5: "50%_off'; DROP TABLE x; --"}.get(i, f"name {i:04d}")
        rows.append(
            (
                i,
                name,
                i % 7,
                dt.datetime(2024, 1, 1) + dt.timedelta(hours=i),
                json.dumps({"n": i, "tag": "<b>"}),
                bytes([0, 255, i % 256]) * 3,
                (i % 5) + 1,
            )
        )
    return rows


def build_postgresql(servers: Servers) -> SqlTarget:
    pg = servers.postgresql
    conn = psycopg2.connect(host=pg.host, port=pg.port, user=pg.username, password=pg.password, dbname=pg.database)
    conn.autocommit = True
    ident = pgsql.Identifier
    with conn.cursor() as cur:
        cur.execute(pgsql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(ident(SCHEMA)))
        cur.execute(pgsql.SQL("CREATE SCHEMA {}").format(ident(SCHEMA)))
        cur.execute(
            pgsql.SQL("CREATE TABLE {}.{} (id int PRIMARY KEY, label text)").format(ident(SCHEMA), ident(PARENT))
        )
        cur.execute(
            pgsql.SQL("INSERT INTO {}.{} SELECT g, 'parent ' || g FROM generate_series(1, 5) g").format(
                ident(SCHEMA), ident(PARENT)
            )
        )
        cur.execute(
            pgsql.SQL(
                "CREATE TABLE {}.{} (id int PRIMARY KEY, {} text, grp int, created timestamp, data jsonb, blob bytea,"
                " parent_id int REFERENCES {}.{}(id))"
            ).format(ident(SCHEMA), ident(TABLE), ident(COL_NAME), ident(SCHEMA), ident(PARENT))
        )
        cur.executemany(
            pgsql.SQL("INSERT INTO {}.{} VALUES (%s, %s, %s, %s, %s, %s, %s)").format(ident(SCHEMA), ident(TABLE)),
            _rows(),
        )
        cur.execute(pgsql.SQL("CREATE TABLE {}.{} (v text)").format(ident(SCHEMA), ident(NOKEY)))
        cur.execute(
            pgsql.SQL("INSERT INTO {}.{} SELECT 'v' || g FROM generate_series(1, {}) g").format(
                ident(SCHEMA), ident(NOKEY), pgsql.Literal(NOKEY_ROWS)
            )
        )
        cur.execute(pgsql.SQL("ANALYZE {}.{}").format(ident(SCHEMA), ident(TABLE)))

    def execute(query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with conn.cursor() as cur:
            cur.execute(query, params)
            return cur.fetchall() if cur.description else []

    fields = {
        "engine": "postgresql",
        "host": pg.host,
        "port": pg.port,
        "database": pg.database,
        "username": pg.username,
    }
    return SqlTarget("postgresql", SCHEMA, fields | {"password": pg.password}, execute)


def build_mysql(servers: Servers) -> SqlTarget:
    my = servers.mysql
    conn = pymysql.connect(
        host=my.host, port=my.port, user=my.username, password=my.password, autocommit=True, charset="utf8mb4"
    )

    def q(name: str) -> str:
        # `%` doubled: every statement below runs with a parameter tuple, so PyMySQL formats it.
        return "`" + name.replace("`", "``").replace("%", "%%") + "`"

    db = "dbdeck 'hostile' `db` 名"
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {q(db)}", ())
        cur.execute(f"CREATE DATABASE {q(db)} CHARACTER SET utf8mb4", ())
        cur.execute(f"CREATE TABLE {q(db)}.{q(PARENT)} (id int PRIMARY KEY, label text) ENGINE=InnoDB", ())
        cur.executemany(f"INSERT INTO {q(db)}.{q(PARENT)} VALUES (%s, %s)", [(i, f"parent {i}") for i in range(1, 6)])
        cur.execute(
            f"CREATE TABLE {q(db)}.{q(TABLE)} (id int PRIMARY KEY, {q(COL_NAME)} longtext, grp int, created datetime,"
            f" data json, `blob` longblob, parent_id int, FOREIGN KEY (parent_id) REFERENCES {q(db)}.{q(PARENT)}(id))"
            " ENGINE=InnoDB",
            (),
        )
        cur.executemany(f"INSERT INTO {q(db)}.{q(TABLE)} VALUES (%s, %s, %s, %s, %s, %s, %s)", _rows())
        cur.execute(f"CREATE TABLE {q(db)}.{q(NOKEY)} (v text) ENGINE=InnoDB", ())
        cur.executemany(f"INSERT INTO {q(db)}.{q(NOKEY)} VALUES (%s)", [(f"v{i}",) for i in range(1, NOKEY_ROWS + 1)])
        cur.execute(f"ANALYZE TABLE {q(db)}.{q(TABLE)}", ())

    def execute(query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with conn.cursor() as cur:
            cur.execute(query, params)
            return list(cur.fetchall()) if cur.description else []

    fields = {"engine": "mysql", "host": my.host, "port": my.port, "database": "", "username": my.username}
    return SqlTarget("mysql", db, fields | {"password": my.password}, execute)


def build_sqlite(root: Path) -> SqlTarget:
    path = root / "hostile.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)

    def q(name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    conn.execute(f"CREATE TABLE {q(PARENT)} (id INTEGER PRIMARY KEY, label TEXT)")
    conn.executemany(f"INSERT INTO {q(PARENT)} VALUES (?, ?)", [(i, f"parent {i}") for i in range(1, 6)])
    conn.execute(
        f"CREATE TABLE {q(TABLE)} (id INTEGER PRIMARY KEY, {q(COL_NAME)} TEXT, grp INTEGER, created TEXT,"
        f" data TEXT, blob BLOB, parent_id INTEGER REFERENCES {q(PARENT)}(id))"
    )
    rows = [(r[0], r[1], r[2], r[3].isoformat(" "), r[4], r[5], r[6]) for r in _rows()]
    conn.executemany(f"INSERT INTO {q(TABLE)} VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    conn.execute(f"CREATE TABLE {q(NOKEY)} (v TEXT)")
    conn.executemany(f"INSERT INTO {q(NOKEY)} VALUES (?)", [(f"v{i}",) for i in range(1, NOKEY_ROWS + 1)])
    conn.execute("ANALYZE")

    def execute(query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return conn.execute(query.replace("%s", "?"), params).fetchall()

    return SqlTarget("sqlite", "main", {"engine": "sqlite", "database": str(path)}, execute)
