"""The dbdeck command drives the server's jobs as a pipeline would: a backup and its restore-test, a query,
slow statements. Subprocesses against a live server, with a real token, browser-free."""

from __future__ import annotations

import csv
import io
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg2
import pytest

from backups.models import Artifact, BackupPlan, BackupRun, Destination, RestoreTest, RunStatus
from connections.models import Connection
from explorer.console.models import ConsoleSession, SessionStatus
from monitoring.collect import collect
from tests.api.conftest import token_for
from tests.api.test_cli import run
from tests.fixtures import People
from tests.services import Servers


@pytest.fixture
def env(tmp_path: Path, live_server: Any, people: People, transactional_db: Any, settings: Any) -> dict[str, str]:
    import os

    settings.DBDECK_BACKUP_ROOT = tmp_path / "backups"
    settings.DBDECK_BACKUP_ROOT.mkdir()
    found = {k: v for k, v in os.environ.items() if not k.startswith(("DBDECK_", "XDG_CONFIG"))}
    found.update(
        HOME=str(tmp_path / "home"),
        PYTHONPATH=str(Path(__file__).resolve().parents[2]),
        DBDECK_URL=live_server.url,
        DBDECK_TOKEN=token_for(people.bob, ceiling="editor"),
    )
    return found


@pytest.fixture
def plan(acme_sqlite: Connection, people: People) -> BackupPlan:
    destination = Destination.objects.create(team=people.acme, name="Local", kind="local")
    return BackupPlan.objects.create(connection=acme_sqlite, name="nightly", destination=destination)


def test_a_backup_and_its_restore_test_run_through_the_cli_alone(plan: BackupPlan, env: dict[str, str]) -> None:
    listed = run(["backup", "plans"], env)
    assert listed.returncode == 0 and "nightly" in listed.stdout
    backup = run(["backup", "run", "nightly", "--wait"], env)
    assert backup.returncode == 0, backup.stderr
    assert "succeeded" in backup.stderr and "bytes written" in backup.stdout
    assert BackupRun.objects.get().status == RunStatus.SUCCEEDED and Artifact.objects.count() == 1
    test = run(["restore-test", str(plan.pk), "--wait"], env)
    assert test.returncode == 0, test.stderr
    assert "verified" in test.stdout and test.stdout.startswith("ok ")
    assert RestoreTest.objects.get().status == RunStatus.SUCCEEDED


def test_a_failed_backup_exits_non_zero(plan: BackupPlan, env: dict[str, str], acme_sqlite: Connection) -> None:
    Path(acme_sqlite.database).unlink()
    backup = run(["backup", "run", "nightly", "--wait"], env)
    assert backup.returncode == 1
    assert "failed" in backup.stderr
    assert BackupRun.objects.get().status == RunStatus.FAILED


def test_a_restore_test_without_a_backup_says_so(plan: BackupPlan, env: dict[str, str]) -> None:
    done = run(["restore-test", "nightly", "--wait"], env)
    assert done.returncode == 1 and "no backup to test yet" in done.stderr


def test_a_viewer_token_cannot_start_a_backup(plan: BackupPlan, env: dict[str, str], people: People) -> None:
    viewer = {**env, "DBDECK_TOKEN": token_for(people.carol)}
    done = run(["backup", "run", "nightly"], viewer)
    assert done.returncode == 1 and "This needs the editor role on Acme shop. (403)" in done.stderr
    assert not BackupRun.objects.exists()


@pytest.fixture
def console_host(settings: Any) -> Iterator[None]:
    settings.DBDECK_CONSOLE_HOST = "thread"
    settings.DBDECK_CONSOLE_IDLE_S = 20
    yield
    ConsoleSession.objects.update(status=SessionStatus.CLOSED)
    for thread in threading.enumerate():
        if thread.name.startswith("console-"):
            thread.join(5)


def test_query_prints_a_result_in_full_as_csv_and_json(
    acme_sqlite: Connection, env: dict[str, str], console_host: None
) -> None:
    import sqlite3

    with sqlite3.connect(acme_sqlite.database) as db:
        db.executemany("INSERT INTO t (name) VALUES (?)", [(f"=cmd|' /C calc'!A{i} <b>",) for i in range(300)])
    done = run(["query", "Acme shop", "SELECT id, name FROM t ORDER BY id"], env)
    assert done.returncode == 0, done.stderr
    rows = list(csv.reader(io.StringIO(done.stdout)))
    assert rows[0] == ["id", "name"] and len(rows) == 302 and rows[2][1].startswith("'=cmd")
    as_json = run(["query", "Acme shop", "SELECT id FROM t WHERE id < 3", "--format", "json"], env)
    assert [json.loads(line) for line in as_json.stdout.splitlines()] == [{"id": 1}, {"id": 2}]


def test_a_failing_statement_exits_non_zero_with_the_engines_message(
    acme_sqlite: Connection, env: dict[str, str], console_host: None
) -> None:
    done = run(["query", "Acme shop", "SELECT * FROM no_such_table"], env)
    assert done.returncode == 1 and "no such table: no_such_table" in done.stderr


def test_slow_lists_the_collected_statements(env: dict[str, str], people: People, servers: Servers) -> None:
    pg = servers.postgresql
    connection = Connection(
        team=people.acme, name="pg", engine="postgresql", host=pg.host, port=pg.port, database=pg.database,
        username=pg.username, options={"tls_mode": "disable"},
    )  # fmt: skip
    connection.set_secret(pg.password)
    connection.save()
    db = psycopg2.connect(host=pg.host, port=pg.port, user=pg.username, password=pg.password, dbname=pg.database)
    db.autocommit = True
    collect(connection.pk)
    with db.cursor() as cur:
        for _ in range(2):
            cur.execute("SELECT 'cli' AS cli_slow_probe, pg_sleep(0.02)")
    collect(connection.pk)
    db.close()
    done = run(["slow", "pg", "--since", "1h", "--format", "json", "--limit", "200"], env)
    assert done.returncode == 0, done.stderr
    found = [json.loads(line) for line in done.stdout.splitlines()]
    probe = [s for s in found if "cli_slow_probe" in s["text"]]
    assert len(probe) == 1 and probe[0]["calls"] == 2 and probe[0]["total_ms"] >= 40
    table = run(["slow", "pg", "--since", "90m"], env)
    assert table.returncode == 0 and table.stdout.startswith("TOTAL_MS")
    bad = run(["slow", "pg", "--since", "yesterday"], env)
    assert bad.returncode == 1 and "give a number and m, h, d or w" in bad.stderr
