"""The Console capability on the real servers: several statements, streaming pages, errors with positions,
cancel that stops the statement on the server, transactions."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import psycopg2
import pymysql
import pytest

from connections.engines import adapter_class
from connections.engines.base import ConnectionParams
from connections.engines.capabilities import Console
from tests.services import Servers


def console_for(params: ConnectionParams) -> tuple[Any, Console]:
    adapter = adapter_class(params.engine)(params)
    console = adapter.get(Console)
    assert console is not None
    return adapter, console


def pg_params(servers: Servers, **extra: Any) -> ConnectionParams:
    return servers.postgresql.params(extra=extra)


def test_three_statements_give_three_results_with_rows_count_and_error_position(servers: Servers) -> None:
    adapter, console = console_for(pg_params(servers))
    text = (
        "SELECT 'a;b' AS x, $$c;d$$ AS y;\nCREATE TEMP TABLE t1 (n int);"
        " INSERT INTO t1 SELECT generate_series(1, 5);\nSELEC 1"
    )
    with adapter:
        chunks = list(console.execute(text, timeout=5))
    by_statement = {c.statement: c for c in chunks if c.done}
    assert chunks[0].rows == [["a;b", "c;d"]]
    assert by_statement[2].rowcount == 5
    assert by_statement[3].error and "syntax" in by_statement[3].error
    assert by_statement[3].error_position == text.index("SELEC 1")


def test_a_big_select_streams_in_batches_from_a_named_cursor(servers: Servers) -> None:
    adapter, console = console_for(pg_params(servers))
    with adapter:
        chunks = console.execute("SELECT g FROM generate_series(1, 2500) g", timeout=5, batch=1000)
        first = next(chunks)
        assert len(first.rows) == 1000 and not first.done
        with adapter._conn().cursor() as cur:  # the cursor is a server-side one, open on the server
            cur.execute("SELECT count(*) FROM pg_cursors WHERE name LIKE 'dbdeck_console_%'")
            assert cur.fetchone()[0] == 1
        rest = list(chunks)
    assert [len(c.rows) for c in rest] == [1000, 500]
    assert rest[-1].done and rest[-1].rows[-1] == [2500]


def _cancel_after(console: Console, seconds: float) -> threading.Thread:
    thread = threading.Thread(target=lambda: (time.sleep(seconds), console.cancel()))
    thread.start()
    return thread


def test_cancel_removes_pg_sleep_from_pg_stat_activity_within_two_seconds(servers: Servers) -> None:
    adapter, console = console_for(pg_params(servers))
    pg = servers.postgresql
    watcher = psycopg2.connect(host=pg.host, port=pg.port, user=pg.username, password=pg.password, dbname=pg.database)
    watcher.autocommit = True
    results: list[Any] = []
    with adapter:
        runner = threading.Thread(target=lambda: results.extend(console.execute("SELECT pg_sleep(60)", timeout=120)))
        runner.start()
        deadline = time.monotonic() + 5
        with watcher.cursor() as cur:
            while time.monotonic() < deadline:
                cur.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(60)%'"
                    " AND pid <> pg_backend_pid()"
                )
                if cur.fetchone()[0]:
                    break
                time.sleep(0.05)
            cancelled_at = time.monotonic()
            console.cancel()
            while time.monotonic() - cancelled_at < 2:
                cur.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%pg_sleep(60)%'"
                    " AND pid <> pg_backend_pid()"
                )
                if cur.fetchone()[0] == 0:
                    break
                time.sleep(0.05)
            gone_after = time.monotonic() - cancelled_at
        runner.join(5)
    watcher.close()
    assert gone_after < 2
    assert results[-1].error.startswith("Cancelled")


def test_cancel_stops_a_mysql_sleep_with_kill_query(servers: Servers) -> None:
    adapter, console = console_for(servers.mysql.params())
    my = servers.mysql
    results: list[Any] = []
    with adapter:
        runner = threading.Thread(target=lambda: results.extend(console.execute("SELECT SLEEP(60)", timeout=120)))
        runner.start()
        time.sleep(0.5)
        started = time.monotonic()
        console.cancel()
        runner.join(5)
        elapsed = time.monotonic() - started
        side = pymysql.connect(host=my.host, port=my.port, user=my.username, password=my.password)
        with side.cursor() as cur:
            cur.execute("SELECT count(*) FROM information_schema.processlist WHERE info LIKE 'SELECT SLEEP(60)%'")
            running = cur.fetchone()[0]
        side.close()
        after = list(console.execute("SELECT 1", timeout=5))  # the session is still usable
    assert elapsed < 2 and running == 0
    assert results[-1].done
    assert after[0].rows == [[1]]


def test_cancel_interrupts_a_long_sqlite_statement(tmp_path: Path) -> None:
    path = tmp_path / "long.sqlite3"
    sqlite3.connect(path).close()
    adapter, console = console_for(ConnectionParams(engine="sqlite", database=str(path)))
    long_query = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"
    with adapter:
        thread = _cancel_after(console, 0.3)
        started = time.monotonic()
        chunks = list(console.execute(long_query, timeout=120))
        thread.join()
    assert time.monotonic() - started < 2
    assert chunks[-1].error.startswith("Cancelled")


def test_a_rolled_back_transaction_leaves_nothing_and_a_committed_one_stays(servers: Servers) -> None:
    adapter, console = console_for(pg_params(servers))
    with adapter:
        list(console.execute("DROP TABLE IF EXISTS console_tx; CREATE TABLE console_tx (n int)", timeout=5))
        console.begin("serializable")
        list(console.execute("INSERT INTO console_tx VALUES (1)", timeout=5))
        level = list(console.execute("SHOW transaction_isolation", timeout=5))[0].rows
        console.rollback()
        console.begin()
        list(console.execute("INSERT INTO console_tx VALUES (2)", timeout=5))
        console.commit()
        rows = list(console.execute("SELECT n FROM console_tx", timeout=5))[0].rows
    assert level == [["serializable"]]
    assert rows == [[2]]


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT nextval('console_seq')",
        "SELECT lo_export(0, '/tmp/x')",
        "SELECT pg_read_file('/etc/passwd')",
        "COPY (SELECT 1) TO PROGRAM 'id'",
        "WITH w AS (INSERT INTO console_ro VALUES (1) RETURNING n) SELECT * FROM w",
        "SELECT 1 AS n INTO console_ro_copy",
        "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE; INSERT INTO console_ro VALUES (1)",
        "SELECT set_config('default_transaction_read_only', 'off', false); INSERT INTO console_ro VALUES (1)",
    ],
)
def test_a_viewer_session_on_postgresql_refuses_hostile_writes(servers: Servers, statement: str) -> None:
    setup, setup_console = console_for(pg_params(servers))
    with setup:
        list(setup_console.execute(
            "DROP TABLE IF EXISTS console_ro; CREATE TABLE console_ro (n int);"
            " DROP SEQUENCE IF EXISTS console_seq; CREATE SEQUENCE console_seq", timeout=5
        ))  # fmt: skip
        list(setup_console.execute(
            "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'console_reader') THEN"
            " CREATE ROLE console_reader LOGIN PASSWORD 'reader pw'; END IF; END $$;"
            " GRANT SELECT ON console_ro TO console_reader; GRANT SELECT ON console_seq TO console_reader", timeout=5
        ))  # fmt: skip
    # The viewer's read-only credential (a role that may only read) and the read-only session together.
    reader = servers.postgresql.params(username="console_reader", password="reader pw", extra={"read_only": True})
    adapter, console = console_for(reader)
    with adapter:
        chunks = list(console.execute(statement, timeout=5))
    assert chunks[-1].error, chunks
    with setup:
        rows = list(setup_console.execute("SELECT count(*) FROM console_ro", timeout=5))[0].rows
        seq = list(setup_console.execute("SELECT last_value, is_called FROM console_seq", timeout=5))[0].rows
    assert rows == [[0]] and seq == [[1, False]]


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT 1 INTO OUTFILE '/tmp/dbdeck-console-out'",
        "LOAD DATA LOCAL INFILE '/etc/passwd' INTO TABLE console_ro",
        "INSERT INTO console_ro VALUES (1)",
        "SET SESSION TRANSACTION READ WRITE; INSERT INTO console_ro VALUES (1)",
    ],
)
def test_a_viewer_session_on_mariadb_refuses_hostile_writes(servers: Servers, statement: str) -> None:
    setup, setup_console = console_for(servers.mysql.params())
    with setup:
        list(setup_console.execute("DROP TABLE IF EXISTS console_ro; CREATE TABLE console_ro (n int)", timeout=5))
    adapter, console = console_for(servers.mysql.params(extra={"read_only": True}))
    with adapter:
        chunks = list(console.execute(statement, timeout=5))
    assert chunks[-1].error, chunks
    with setup:
        rows = list(setup_console.execute("SELECT count(*) FROM console_ro", timeout=5))[0].rows
    assert rows == [[0]]


@pytest.mark.parametrize(
    ("statement", "read_only"),
    [
        ("ATTACH DATABASE '{other}' AS other", False),
        ("VACUUM INTO '{other}'", False),
        ("INSERT INTO t VALUES (2)", True),
        ("PRAGMA query_only = OFF; INSERT INTO t VALUES (2)", True),
    ],
)
def test_sqlite_refuses_attach_and_vacuum_into_for_all_and_writes_for_viewers(
    tmp_path: Path, statement: str, read_only: bool
) -> None:
    path, other = tmp_path / "main.sqlite3", tmp_path / "other.sqlite3"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE t (n int)")
    db.execute("INSERT INTO t VALUES (1)")
    db.commit()
    db.close()
    adapter, console = console_for(
        ConnectionParams(engine="sqlite", database=str(path), extra={"read_only": read_only})
    )
    with adapter:
        chunks = list(console.execute(statement.format(other=other), timeout=5))
    assert chunks[-1].error
    assert not other.exists()
    assert sqlite3.connect(path).execute("SELECT count(*) FROM t").fetchone()[0] == 1
