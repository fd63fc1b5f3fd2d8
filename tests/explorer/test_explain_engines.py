"""EXPLAIN on each real server, normalized into one plan tree."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import psycopg2
import pymysql
import pytest
from pymongo import MongoClient

from connections.engines import EngineError, open_adapter
from connections.engines.base import ConnectionParams
from connections.engines.capabilities import Explain
from connections.engines.plantree import count, one_statement, walk
from tests.services import Servers

PG_TABLE = 'ex\'plain "orders" 表'


def pg_exec(servers: Servers, *statements: str) -> None:
    pg = servers.postgresql
    conn = psycopg2.connect(host=pg.host, port=pg.port, user=pg.username, password=pg.password, dbname=pg.database)
    conn.autocommit = True
    with conn.cursor() as cur:
        for statement in statements:
            cur.execute(statement)
    conn.close()


@pytest.fixture
def pg_orders(servers: Servers) -> str:
    pg_exec(
        servers,
        'DROP TABLE IF EXISTS "ex\'plain ""orders"" 表"',
        'CREATE TABLE "ex\'plain ""orders"" 表" (id int PRIMARY KEY, status text, total int)',
        'INSERT INTO "ex\'plain ""orders"" 表" SELECT g, CASE WHEN g % 1000 = 0 THEN \'new\' ELSE \'done\' END, g % 97'
        " FROM generate_series(1, 20000) g",
        'ANALYZE "ex\'plain ""orders"" 表"',
    )
    return '"ex\'plain ""orders"" 表"'


def test_postgresql_explain_analyze_reports_actual_rows_time_and_buffers(servers: Servers, pg_orders: str) -> None:
    with open_adapter(servers.postgresql.params()) as adapter:
        plan = adapter.get(Explain).explain(f"SELECT * FROM {pg_orders} WHERE status = 'new'", analyze=True)
    scan = plan.root
    assert scan.operation == "Seq Scan" and scan.relation == PG_TABLE
    assert scan.actual_rows == 20 and scan.estimated_rows and scan.loops == 1
    assert scan.inclusive_ms is not None and scan.exclusive_ms is not None
    assert "shared hit" in scan.buffers or "shared read" in scan.buffers
    assert scan.detail["Rows Removed by Filter"] == 19980
    assert plan.analyzed and plan.total_ms and json.loads(plan.raw)[0]["Plan"]["Node Type"] == "Seq Scan"


def test_postgresql_explain_analyze_of_a_write_is_rolled_back(servers: Servers, pg_orders: str) -> None:
    with open_adapter(servers.postgresql.params()) as adapter:
        plan = adapter.get(Explain).explain(f"DELETE FROM {pg_orders} WHERE id <= 100", analyze=True)
        assert plan.rolled_back and plan.root.operation.startswith("ModifyTable")
        assert adapter._execute(f"SELECT count(*) FROM {pg_orders}")[0][0] == 20000


def test_postgresql_explain_refuses_a_second_statement(servers: Servers, pg_orders: str) -> None:
    with open_adapter(servers.postgresql.params()) as adapter, pytest.raises(EngineError, match="one statement"):
        adapter.get(Explain).explain(f"SELECT 1; DROP TABLE {pg_orders}")
    assert one_statement("SELECT ';' AS \"a;b\" /* ; */ ;") == "SELECT ';' AS \"a;b\" /* ; */"
    assert one_statement("SELECT $x$;$x$") == "SELECT $x$;$x$"


def test_postgresql_explain_keeps_a_percent_sign_and_honours_the_timeout(servers: Servers) -> None:
    with open_adapter(servers.postgresql.params()) as adapter:
        plan = adapter.get(Explain).explain("SELECT '100%' LIKE '%s'", analyze=True)
        assert plan.root.operation == "Result"
    with open_adapter(servers.postgresql.params(statement_timeout=0.5)) as adapter:
        with pytest.raises(EngineError) as caught:
            adapter.get(Explain).explain("SELECT pg_sleep(5)", analyze=True)
        assert caught.value.kind == "timeout"


def test_a_viewers_postgresql_session_explains_but_cannot_analyze_a_write(servers: Servers, pg_orders: str) -> None:
    params = servers.postgresql.params(extra={"read_only": True})
    with open_adapter(params) as adapter:
        explain = adapter.get(Explain)
        assert explain.explain(f"DELETE FROM {pg_orders}").root.operation.startswith("ModifyTable")
        with pytest.raises(EngineError) as caught:
            explain.explain(f"DELETE FROM {pg_orders}", analyze=True)
        assert caught.value.kind == "permission"


def test_a_plan_of_five_hundred_nodes_is_walked_without_recursion(servers: Servers) -> None:
    union = " UNION ALL ".join(f"(SELECT count(*) FROM pg_class WHERE relpages = {i})" for i in range(250))
    with open_adapter(servers.postgresql.params()) as adapter:
        plan = adapter.get(Explain).explain(union)
    assert count(plan.root) >= 500
    assert max(depth for _, depth in walk(plan.root)) < 5


def mysql_exec(servers: Servers, *statements: str) -> None:
    my = servers.mysql
    conn = pymysql.connect(host=my.host, port=my.port, user=my.username, password=my.password, database=my.database)
    with conn.cursor() as cur:
        for statement in statements:
            cur.execute(statement)
    conn.commit()
    conn.close()


def test_mariadb_analyze_format_json_gives_actual_rows_and_rolls_back(servers: Servers) -> None:
    mysql_exec(
        servers,
        "DROP TABLE IF EXISTS `ex``plain`",
        "CREATE TABLE `ex``plain` (id int PRIMARY KEY, status varchar(10), total int)",
        "INSERT INTO `ex``plain` SELECT seq, IF(seq % 100 = 0, 'new', 'done'), seq % 7 FROM seq_1_to_5000",
    )
    with open_adapter(servers.mysql.params()) as adapter:
        explain = adapter.get(Explain)
        plan = explain.explain("SELECT * FROM `ex``plain` WHERE status = 'new'", analyze=True)
        scans = [n for n, _ in walk(plan.root) if n.relation == "ex`plain"]
        assert scans and scans[0].operation.startswith("ALL")
        assert scans[0].actual_rows is not None and scans[0].estimated_rows
        assert "status" in scans[0].detail["Filter"]
        estimate = explain.explain("SELECT * FROM `ex``plain` WHERE id = 3")
        assert not estimate.analyzed and any(n.index == "PRIMARY" for n, _ in walk(estimate.root))
        written = explain.explain("UPDATE `ex``plain` SET total = 0", analyze=True)
        assert written.rolled_back
        assert adapter._execute("SELECT count(*) FROM `ex``plain` WHERE total = 0")[0][0] < 5000


def test_sqlite_explain_query_plan_names_the_scan_and_the_index(tmp_path: Path) -> None:
    path = tmp_path / "plan.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute('CREATE TABLE "o""rders" (id INTEGER PRIMARY KEY, status TEXT, total INT)')
        db.execute('CREATE INDEX "by status" ON "o""rders" (status)')
    with open_adapter(ConnectionParams(engine="sqlite", database=str(path))) as adapter:
        explain = adapter.get(Explain)
        scan = explain.explain('SELECT * FROM "o""rders" WHERE total = 3').root
        search = explain.explain('SELECT * FROM "o""rders" WHERE status = ?'.replace("?", "'x'")).root
        assert not explain.can_analyze
    assert scan.operation == "Full scan" and scan.relation == 'o"rders'
    assert search.operation == "Index search" and search.index == "by status"


def test_mongodb_explain_normalizes_what_the_server_reports(servers: Servers) -> None:
    m = servers.mongodb
    client = MongoClient(host=m.host, port=m.port, username=m.username, password=m.password, authSource="admin")
    client["dbdeck_test"]["ex'plain"].drop()
    client["dbdeck_test"]["ex'plain"].insert_many([{"status": "new" if i % 10 == 0 else "done"} for i in range(200)])
    client.close()
    with open_adapter(servers.mongodb.params()) as adapter:
        explain = adapter.get(Explain)
        plan = explain.explain('{"find": "ex\'plain", "filter": {"status": "new"}}', analyze=True)
        assert plan.root.operation == "COLLSCAN" and plan.raw.startswith("{")
        assert plan.root.actual_rows == 20 and plan.root.detail["docsExamined"] == 200
        assert plan.root.relation == "dbdeck_test.ex'plain"
        with pytest.raises(EngineError, match=r"\$out"):
            explain.explain('{"aggregate": "x", "pipeline": [{"$out": "y"}], "cursor": {}}')
        with pytest.raises(EngineError, match="insert"):
            explain.explain('{"insert": "x", "documents": []}')
