"""PostgreSQL index tools on the real server: usage, findings, what-if with HypoPG, online builds."""

from __future__ import annotations

import psycopg2
import pytest

from connections.engines import EngineError, open_adapter
from connections.engines.capabilities import IndexTools
from explorer.plans import recommended
from tests.services import Servers

SCHEMA = "idx 'sch\"ema"
TABLE = 'or"ders `x` <script>'


def pg(servers: Servers) -> psycopg2.extensions.connection:
    s = servers.postgresql
    conn = psycopg2.connect(host=s.host, port=s.port, user=s.username, password=s.password, dbname=s.database)
    conn.autocommit = True
    return conn


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@pytest.fixture
def orders(servers: Servers) -> str:
    table = f"{q(SCHEMA)}.{q(TABLE)}"
    conn = pg(servers)
    with conn.cursor() as cur:
        cur.execute(f"DROP SCHEMA IF EXISTS {q(SCHEMA)} CASCADE")
        cur.execute(f"CREATE SCHEMA {q(SCHEMA)}")
        cur.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, status text, customer int, note text)")
        cur.execute(
            f"INSERT INTO {table} SELECT g, CASE WHEN g % 500 = 0 THEN 'new' ELSE 'done' END, g % 50, 'n' || (g % 3)"
            " FROM generate_series(1, 30000) g"
        )
        cur.execute(f"ANALYZE {table}")
    conn.close()
    return table


def test_findings_name_duplicate_prefix_unused_and_invalid_indexes(servers: Servers, orders: str) -> None:
    conn = pg(servers)
    with conn.cursor() as cur:
        cur.execute(f"CREATE INDEX by_customer ON {orders} (customer)")
        cur.execute(f"CREATE INDEX by_customer_again ON {orders} (customer)")
        cur.execute(f"CREATE INDEX by_customer_status ON {orders} (customer, status)")
        cur.execute(f'CREATE INDEX "by note\'" ON {orders} (note)')
        with pytest.raises(psycopg2.errors.UniqueViolation):
            cur.execute(f"CREATE UNIQUE INDEX CONCURRENTLY broken ON {orders} (status)")
    conn.close()
    with open_adapter(servers.postgresql.params()) as adapter:
        tools = adapter.get(IndexTools)
        listed = {i.name: i for i in tools.list_indexes(SCHEMA, TABLE)}
        found = {(f.kind, f.index): f for f in tools.findings(SCHEMA)}
    assert not listed["broken"].valid and listed[f"{TABLE}_pkey"].primary
    assert listed["by_customer"].size_bytes and listed["by_customer"].scans == 0
    assert "CREATE INDEX by_customer ON" in listed["by_customer"].definition
    assert ("invalid", "broken") in found
    assert found[("invalid", "broken")].fix.startswith(f"DROP INDEX CONCURRENTLY {q(SCHEMA)}.")
    assert ("duplicate", "by_customer_again") in found
    assert ("prefix", "by_customer") in found or ("prefix", "by_customer_again") in found
    assert ("unused", "by note'") in found
    note = q("by note'")
    assert found[("unused", "by note'")].fix == f"DROP INDEX CONCURRENTLY {q(SCHEMA)}.{note};"
    assert not any(f.index.endswith("_pkey") for f in found.values())


def test_what_if_recommends_an_index_that_really_lowers_the_cost(servers: Servers, orders: str) -> None:
    statement = f"SELECT * FROM {orders} WHERE status = 'new' AND customer = 0"
    with open_adapter(servers.postgresql.params()) as adapter:
        tools = adapter.get(IndexTools)
        suggestions = tools.suggest(statement)
        best = [s for s in suggestions if recommended(s)]
        assert best and best[0].method == "hypothetical"
        assert best[0].cost_after <= best[0].cost_before / 2
        assert set(best[0].columns) <= {"status", "customer"}
        assert not adapter._execute("SELECT * FROM hypopg_list_indexes")  # nothing hypothetical left behind
        for _ in tools.create(SCHEMA, TABLE, best[0].columns):
            pass
        from connections.engines.postgresql.explain import PostgreSQLExplain

        assert PostgreSQLExplain(adapter).cost(statement) <= best[0].cost_before / 2
        names = [i.name for i in tools.list_indexes(SCHEMA, TABLE)]
        assert any(name.endswith("_idx") for name in names)


def test_a_failed_concurrent_build_leaves_no_invalid_index_behind(servers: Servers, orders: str) -> None:
    with open_adapter(servers.postgresql.params()) as adapter:
        tools = adapter.get(IndexTools)
        with pytest.raises(EngineError):
            for _ in tools.create(SCHEMA, TABLE, ("status",), unique=True):
                pass
        assert [i.name for i in tools.list_indexes(SCHEMA, TABLE)] == [f"{TABLE}_pkey"]


def test_a_build_reports_progress_and_a_drop_removes_the_index(servers: Servers, orders: str) -> None:
    with open_adapter(servers.postgresql.params()) as adapter:
        tools = adapter.get(IndexTools)
        steps = list(tools.create(SCHEMA, TABLE, ("customer", "status")))
        assert steps[0].phase.startswith("building") and steps[-1].phase == "done"
        made = [i for i in tools.list_indexes(SCHEMA, TABLE) if i.columns == ("customer", "status")]
        assert made and made[0].valid
        list(tools.drop(SCHEMA, TABLE, made[0].name))
        assert [i.columns for i in tools.list_indexes(SCHEMA, TABLE)] == [("id",)]


def test_hostile_column_names_are_quoted_in_builds(servers: Servers) -> None:
    conn = pg(servers)
    with conn.cursor() as cur:
        cur.execute(f"DROP SCHEMA IF EXISTS {q(SCHEMA)} CASCADE")
        cur.execute(f"CREATE SCHEMA {q(SCHEMA)}")
        cur.execute(f'CREATE TABLE {q(SCHEMA)}.{q(TABLE)} ("we""ird; DROP TABLE x; --" int)')
    conn.close()
    with open_adapter(servers.postgresql.params()) as adapter:
        tools = adapter.get(IndexTools)
        list(tools.create(SCHEMA, TABLE, ('we"ird; DROP TABLE x; --',)))
        assert [i.columns for i in tools.list_indexes(SCHEMA, TABLE)] == [('we"ird; DROP TABLE x; --',)]
        with pytest.raises(EngineError):
            list(tools.create(SCHEMA, TABLE, ("nul\x00",)))


def test_without_hypopg_the_advice_is_a_labelled_heuristic_and_says_how_to_enable_it(servers: Servers) -> None:
    conn = pg(servers)
    with conn.cursor() as cur:
        cur.execute("DROP DATABASE IF EXISTS dbdeck_nohypo")
        cur.execute("CREATE DATABASE dbdeck_nohypo")
    conn.close()
    params = servers.postgresql.params(database="dbdeck_nohypo")
    with open_adapter(params) as adapter:
        adapter._execute("CREATE TABLE t (id int, status text)")
        adapter._execute("INSERT INTO t SELECT g, 'x' || (g %% 100) FROM generate_series(1, 5000) g")
        adapter._execute("ANALYZE t")
        adapter._commit()
        tools = adapter.get(IndexTools)
        advice = tools.suggest("SELECT * FROM t WHERE status = 'x1'")
        assert advice and all(s.method == "heuristic" and s.cost_after is None for s in advice)
        assert advice[0].columns == ("status",) and advice[0].reason.startswith("Heuristic (not measured)")
        assert "CREATE EXTENSION hypopg" in tools.notice
        assert not any(recommended(s) for s in advice)


def test_a_long_build_reports_the_phases_postgresql_gives(servers: Servers) -> None:
    conn = pg(servers)
    with conn.cursor() as cur:
        cur.execute(f"DROP SCHEMA IF EXISTS {q(SCHEMA)} CASCADE")
        cur.execute(f"CREATE SCHEMA {q(SCHEMA)}")
        cur.execute(
            f"CREATE UNLOGGED TABLE {q(SCHEMA)}.big AS SELECT g AS id, md5(g::text) AS h"
            " FROM generate_series(1, 1500000) g"
        )
    conn.close()
    with open_adapter(servers.postgresql.params()) as adapter:
        steps = list(adapter.get(IndexTools).create(SCHEMA, "big", ("h",)))
    phases = [s.phase for s in steps[1:-1]]
    assert phases, "the build finished before the first progress poll"
    assert any(p.startswith("building index") for p in phases)
    assert any(s.total for s in steps[1:-1])


def test_a_table_read_by_heavy_sequential_scans_is_a_finding(servers: Servers, orders: str) -> None:
    conn = pg(servers)
    with conn.cursor() as cur:
        for _ in range(3):
            cur.execute(f"SELECT count(*) FROM {orders} WHERE note = 'n1'")
        cur.execute("SELECT pg_stat_force_next_flush()")
    conn.close()
    with open_adapter(servers.postgresql.params()) as adapter:
        missing = [f for f in adapter.get(IndexTools).findings(SCHEMA) if f.kind == "missing"]
    assert [f.table for f in missing] == [TABLE]
    assert "sequential scans read" in missing[0].detail and missing[0].size_bytes


def test_what_if_finds_the_join_key_and_the_sort_column(servers: Servers, orders: str) -> None:
    conn = pg(servers)
    with conn.cursor() as cur:
        cur.execute(f"CREATE TABLE {q(SCHEMA)}.people (id int PRIMARY KEY, name text)")
        cur.execute(f"INSERT INTO {q(SCHEMA)}.people SELECT g, 'p' || g FROM generate_series(0, 49) g")
        cur.execute(f"ANALYZE {q(SCHEMA)}.people")
    conn.close()
    join = f"SELECT * FROM {q(SCHEMA)}.people p JOIN {orders} o ON o.customer = p.id WHERE p.name = 'p7'"
    with open_adapter(servers.postgresql.params()) as adapter:
        tools = adapter.get(IndexTools)
        best = [s for s in tools.suggest(join) if recommended(s)]
        assert best and best[0].table == TABLE and best[0].columns[0] == "customer"
        ordered = [
            s for s in tools.suggest(f"SELECT * FROM {orders} WHERE status = 'new' ORDER BY id DESC, note LIMIT 5")
        ]
        assert ("status",) in [s.columns for s in ordered]
        assert any(s.columns == ("status", "note") or s.columns == ("status", "id") for s in ordered)
