"""MariaDB backups against the private server: mariadb-dump per database, restore-test into an ephemeral MariaDB."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pymysql
import pytest

from backups.models import Artifact, BackupPlan, RunStatus
from connections.models import Connection

ODD = "we`ird ' <b>ü"


@pytest.fixture
def my_db(servers: Any) -> Iterator[str]:
    m = servers.mysql
    name = f"shop_{secrets.token_hex(4)}"
    conn = pymysql.connect(host=m.host, port=m.port, user=m.username, password=m.password, autocommit=True)
    with conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}`")
        cur.execute(f"CREATE TABLE `{name}`.orders (id INT PRIMARY KEY AUTO_INCREMENT, item TEXT, blob_col BLOB)")
        cur.execute(
            f"INSERT INTO `{name}`.orders (item, blob_col) VALUES " + ",".join(["(%s, %s)"] * 300),
            [v for i in range(300) for v in (f"item {i} '\"`", bytes([0, 255, i % 256]))],
        )
        cur.execute(f"CREATE TABLE `{name}`.`{ODD.replace('`', '``')}` (v TEXT)")
        cur.execute(f"INSERT INTO `{name}`.`{ODD.replace('`', '``')}` VALUES ('x'), ('y'), ('z')")
        cur.execute(f"CREATE PROCEDURE `{name}`.touch() SELECT 1")
    yield name
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
    conn.close()


@pytest.fixture
def my_plan(servers: Any, people: Any, my_db: str, local_destination: Any) -> BackupPlan:
    m = servers.mysql
    connection = Connection(
        team=people.acme,
        name="Maria shop",
        engine="mysql",
        host=m.host,
        port=m.port,
        database=my_db,
        username=m.username,
        options={"tls_mode": "disable"},
    )
    connection.set_secret(m.password)
    connection.save()
    return BackupPlan.objects.create(connection=connection, name="maria nightly", destination=local_destination)


def test_a_mariadb_backup_dumps_routines_and_hostile_tables_with_counts_and_no_password_in_argv(
    my_plan: BackupPlan, people: Any, backup_now: Any, process_watcher: Any, servers: Any
) -> None:
    run = backup_now(my_plan, people.bob)
    assert run.status == RunStatus.SUCCEEDED, run.error
    body = Artifact.objects.get(run=run).manifest
    counts = {o["name"]: o["count"] for o in body["objects"]}
    db = my_plan.connection.database
    assert counts == {f"{db}.orders": 300, f"{db}.{ODD}": 3}
    assert body["method"] == "mariadb-dump" and body["server_version"].startswith("MariaDB")
    dumps = [s for s in process_watcher.sightings if s.argv and s.argv[0].endswith("mariadb-dump")]
    assert dumps and all(a.startswith("--defaults-extra-file=") for a in [dumps[0].argv[1]])
    for seen in process_watcher.sightings:
        assert servers.mysql.password not in " ".join(seen.argv)
        assert servers.mysql.password not in " ".join(seen.environ)


def test_a_mariadb_restore_test_restores_into_an_ephemeral_server_and_counts_match(
    my_plan: BackupPlan, people: Any, backup_now: Any, restore_test_now: Any
) -> None:
    backup_now(my_plan, people.bob)
    my_plan.verify_queries = [
        {"query": "SELECT COUNT(*) FROM orders WHERE HEX(blob_col) LIKE '00FF%'", "expected": "300"}
    ]
    my_plan.save()
    test = restore_test_now(my_plan, people.bob)
    assert test.status == RunStatus.SUCCEEDED, (test.error, test.checks)
    assert "ephemeral MariaDB" in test.sandbox and len(test.checks) == 4, test.checks
    assert test.checks[-1]["detail"] == "'300', expected '300'"
