"""Index tools on the real MariaDB, SQLite and SecantusDB servers: listing, findings, advice, builds."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pymysql
import pytest
from pymongo import MongoClient

from connections.engines import EngineError, open_adapter
from connections.engines.base import ConnectionParams
from connections.engines.capabilities import IndexTools
from tests.services import Servers

HOSTILE = "co`l'\" <b>名"


def test_mariadb_lists_finds_duplicates_and_builds_online(servers: Servers) -> None:
    my = servers.mysql
    conn = pymysql.connect(host=my.host, port=my.port, user=my.username, password=my.password, database=my.database)
    with conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS `i``dx`")
        cur.execute(f"CREATE TABLE `i``dx` (id int PRIMARY KEY, a int, b int, `{HOSTILE.replace('`', '``')}` int)")
        cur.execute("CREATE INDEX by_a ON `i``dx` (a)")
        cur.execute("CREATE INDEX by_a2 ON `i``dx` (a)")
        cur.execute("CREATE INDEX by_a_b ON `i``dx` (a, b)")
        cur.execute("INSERT INTO `i``dx` SELECT seq, seq % 10, seq % 3, seq FROM seq_1_to_2000")
    conn.commit()
    conn.close()
    with open_adapter(servers.mysql.params()) as adapter:
        tools = adapter.get(IndexTools)
        listed = {i.name: i for i in tools.list_indexes(my.database, "i`dx")}
        assert listed["PRIMARY"].primary and listed["by_a_b"].columns == ("a", "b")
        assert "userstat" in tools.notice or "rows read" in tools.notice
        kinds = {(f.kind, f.index) for f in tools.findings(my.database)}
        assert ("duplicate", "by_a2") in kinds and (("prefix", "by_a") in kinds)
        advice = tools.suggest(f"SELECT * FROM `i``dx` WHERE b = 2 AND `{HOSTILE.replace('`', '``')}` > 5")
        assert advice and advice[0].method == "heuristic" and "b" in advice[0].columns
        steps = list(tools.create(my.database, "i`dx", (HOSTILE,)))
        assert steps[-1].phase == "done"
        made = [i for i in tools.list_indexes(my.database, "i`dx") if i.columns == (HOSTILE,)]
        assert made
        list(tools.drop(my.database, "i`dx", made[0].name))
        assert not [i for i in tools.list_indexes(my.database, "i`dx") if i.columns == (HOSTILE,)]
    with open_adapter(servers.mysql.params(extra={"read_only": True})) as adapter:
        with pytest.raises(EngineError):
            list(adapter.get(IndexTools).create(my.database, "i`dx", ("b",)))


def test_sqlite_lists_finds_prefixes_advises_and_builds(tmp_path: Path) -> None:
    path = tmp_path / "idx.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute(
            f'CREATE TABLE "t""x" (id INTEGER PRIMARY KEY, status TEXT, "{HOSTILE.replace(chr(34), chr(34) * 2)}" INT)'
        )
        db.execute('CREATE INDEX by_status ON "t""x" (status)')
        db.execute(f'CREATE INDEX by_status_h ON "t""x" (status, "{HOSTILE.replace(chr(34), chr(34) * 2)}")')
    with open_adapter(ConnectionParams(engine="sqlite", database=str(path))) as adapter:
        tools = adapter.get(IndexTools)
        listed = {i.name: i for i in tools.list_indexes("main", 't"x')}
        assert listed["by_status_h"].columns == ("status", HOSTILE)
        assert "CREATE INDEX by_status" in listed["by_status"].definition
        assert {(f.kind, f.index) for f in tools.findings("main")} == {("prefix", "by_status")}
        advice = tools.suggest(f'SELECT * FROM "t""x" WHERE "{HOSTILE.replace(chr(34), chr(34) * 2)}" = 3')
        assert advice and advice[0].columns == (HOSTILE,) and advice[0].method == "heuristic"
        list(tools.create("main", 't"x', advice[0].columns))
        assert any(i.columns == (HOSTILE,) for i in tools.list_indexes("main", 't"x'))


def test_mongodb_lists_indexes_finds_prefixes_advises_and_builds(servers: Servers) -> None:
    m = servers.mongodb
    client = MongoClient(host=m.host, port=m.port, username=m.username, password=m.password, authSource="admin")
    coll = client["dbdeck_test"]["i'dx"]
    coll.drop()
    coll.insert_many([{"status": "new" if i % 5 else "done", "n": i} for i in range(100)])
    coll.create_index([("status", 1)], name="by_status")
    coll.create_index([("status", 1), ("n", 1)], name="by_status_n")
    with open_adapter(servers.mongodb.params()) as adapter:
        tools = adapter.get(IndexTools)
        listed = {i.name: i for i in tools.list_indexes("dbdeck_test", "i'dx")}
        assert listed["by_status_n"].columns == ("status:1", "n:1") and listed["_id_"].primary
        assert ("prefix", "by_status") in {(f.kind, f.index) for f in tools.findings("dbdeck_test")}
        advice = tools.suggest('{"find": "i\'dx", "filter": {"n": {"$gt": 5}, "kind": "a"}, "sort": {"when": 1}}')
        assert advice[0].columns == ("kind", "when")
        list(tools.create("dbdeck_test", "i'dx", ("kind", "when")))
        assert any(i.columns == ("kind:1", "when:1") for i in tools.list_indexes("dbdeck_test", "i'dx"))
    with open_adapter(servers.mongodb.params(extra={"read_only": True})) as adapter:
        with pytest.raises(EngineError):
            list(adapter.get(IndexTools).create("dbdeck_test", "i'dx", ("n",)))
    client.close()


def test_mariadb_counts_index_use_when_userstat_is_on(servers: Servers) -> None:
    my = servers.mysql
    conn = pymysql.connect(host=my.host, port=my.port, user=my.username, password=my.password, database=my.database)
    try:
        with conn.cursor() as cur:
            cur.execute("SET GLOBAL userstat = 1")
            cur.execute("DROP TABLE IF EXISTS `u``sed`")
            cur.execute("CREATE TABLE `u``sed` (id int PRIMARY KEY, a int, b int, KEY by_a (a), KEY by_b (b))")
            cur.execute("INSERT INTO `u``sed` SELECT seq, seq % 10, seq FROM seq_1_to_500")
            conn.commit()
            cur.execute("SELECT count(*) FROM `u``sed` FORCE INDEX (by_a) WHERE a = 3")
        with open_adapter(my.params()) as adapter:
            tools = adapter.get(IndexTools)
            listed = {i.name: i for i in tools.list_indexes(my.database, "u`sed")}
            assert listed["by_a"].scans and listed["by_a"].scans > 0 and listed["by_b"].scans == 0
            assert "rows read" in tools.notice
            unused = {f.index for f in tools.findings(my.database) if f.kind == "unused" and f.table == "u`sed"}
            assert unused == {"by_b"}
    finally:
        with conn.cursor() as cur:
            cur.execute("SET GLOBAL userstat = 0")
        conn.close()
