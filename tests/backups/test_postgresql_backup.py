"""PostgreSQL backups end to end against the private server: dump, manifest, restore-test, counts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from backups import runner
from backups.models import Artifact, BackupRun, RunStatus
from connections.engines import EngineError
from connections.engines.postgresql.backup import choose_client, installed_clients
from tests.backups.conftest import HOSTILE_TABLE


def test_a_postgresql_backup_streams_an_encrypted_artifact_with_a_manifest_of_exact_counts(
    backup_now: Any, restore_test_now: Any, pg_plan: Any, people: Any, process_watcher: Any, servers: Any
) -> None:
    run = backup_now(pg_plan, people.bob)
    assert run.status == RunStatus.SUCCEEDED, run.error
    artifact = Artifact.objects.get(run=run)
    body = artifact.manifest
    assert body["engine"] == "postgresql" and body["method"] == "pg_dump" and "15" in body["tool_version"]
    assert body["encryption"]["key_id"] and body["compression"].startswith("zstd")
    counts = {o["name"]: o["count"] for o in body["objects"]}
    assert counts["public.orders"] == 1000 and counts[f"-dash.{HOSTILE_TABLE}"] == 2
    stored = Path(artifact.location) / body["parts"][0]["stored_name"]
    assert stored.exists() and stored.stat().st_size == body["parts"][0]["stored_size"]
    assert b"PGDMP" not in stored.read_bytes()[:64]  # encrypted, not a plain custom-format dump
    assert Path(artifact.manifest_url).name == "manifest.json"
    assert run.bytes_read == body["parts"][0]["size"] > 0
    for seen in process_watcher.sightings:
        assert servers.postgresql.password not in " ".join(seen.argv)


def test_a_restore_test_restores_into_an_ephemeral_server_and_every_count_matches(
    backup_now: Any, restore_test_now: Any, pg_plan: Any, people: Any
) -> None:
    backup_now(pg_plan, people.bob)
    test = restore_test_now(pg_plan, people.bob)
    assert test.status == RunStatus.SUCCEEDED, test.error
    assert test.rto_seconds and test.rto_seconds > 0
    names = {c["name"]: c for c in test.checks}
    assert names["table public.orders: count"]["ok"] and names["table public.orders: count"]["detail"].startswith(
        "1000"
    )
    assert "ephemeral PostgreSQL 15" in test.sandbox


def test_one_flipped_byte_fails_the_restore_test_on_the_checksum_and_says_so(
    backup_now: Any, restore_test_now: Any, pg_plan: Any, people: Any
) -> None:
    run = backup_now(pg_plan, people.bob)
    artifact = Artifact.objects.get(run=run)
    stored = Path(artifact.location) / artifact.manifest["parts"][0]["stored_name"]
    data = bytearray(stored.read_bytes())
    data[len(data) // 2] ^= 0x01
    stored.write_bytes(bytes(data))
    test = restore_test_now(pg_plan, people.bob)
    assert test.status == RunStatus.FAILED
    assert "Checksum mismatch" in test.error and artifact.manifest["parts"][0]["stored_name"] in test.error
    assert test.rto_seconds is None


def test_verification_queries_with_the_wrong_expectation_fail_the_restore_test(
    backup_now: Any, restore_test_now: Any, pg_plan: Any, people: Any
) -> None:
    pg_plan.verify_queries = [
        {"query": "SELECT count(*) FROM orders WHERE amount > 750", "expected": "500"},
        {"query": "SELECT max(id) FROM orders", "expected": "999"},
    ]
    pg_plan.save()
    backup_now(pg_plan, people.bob)
    test = restore_test_now(pg_plan, people.bob)
    outcomes = [c["ok"] for c in test.checks if c["name"].startswith("query")]
    assert outcomes == [True, False] and test.status == RunStatus.FAILED
    assert "'1000', expected '999'" in test.error


def test_only_an_older_pg_dump_installed_fails_with_the_package_to_install(
    backup_now: Any,
    restore_test_now: Any,
) -> None:
    with pytest.raises(EngineError) as err:
        choose_client(16, [(15, Path("/usr/lib/postgresql/15/bin"))])
    assert "postgresql-client-16" in str(err.value) and "newest installed is 15" in str(err.value)
    assert choose_client(15, installed_clients()) == Path("/usr/lib/postgresql/15/bin")


def test_a_backup_with_an_older_client_only_fails_clearly_and_lists_nothing(
    backup_now: Any, restore_test_now: Any, pg_plan: Any, people: Any, monkeypatch: Any
) -> None:
    from connections.engines.postgresql.backup import PostgreSQLBackup

    monkeypatch.setattr(PostgreSQLBackup, "client_pattern", "/nonexistent/postgresql/*/bin")
    run = backup_now(pg_plan, people.bob)
    assert run.status == RunStatus.FAILED and "postgresql-client-15" in run.error
    assert not Artifact.objects.exists() and not list(Path(runner.local_root(pg_plan.destination)).rglob("*.zst*"))
    monkeypatch.undo()
    again = backup_now(pg_plan, people.bob)
    assert again.status == RunStatus.SUCCEEDED


def test_a_source_database_dropped_mid_dump_fails_the_run_without_an_artifact(
    backup_now: Any, pg_plan: Any, people: Any, servers: Any, monkeypatch: Any
) -> None:
    import psycopg2

    from backups import pipeline
    from backups import runner as r

    pg = servers.postgresql
    with (
        psycopg2.connect(
            host=pg.host, port=pg.port, user=pg.username, password=pg.password, dbname=pg_plan.connection.database
        ) as conn,
        conn.cursor() as cur,
    ):
        cur.execute("INSERT INTO orders (item) SELECT repeat(md5(g::text), 8) FROM generate_series(1, 200000) g")
    admin = psycopg2.connect(host=pg.host, port=pg.port, user=pg.username, password=pg.password, dbname="postgres")
    admin.autocommit = True
    dropped: list[int] = []

    def drop_on_first_progress(self: Any, read: int, written: int) -> None:
        if not dropped and read > 0:
            dropped.append(read)
            with admin.cursor() as cur:
                cur.execute(f'DROP DATABASE "{pg_plan.connection.database}" WITH (FORCE)')

    monkeypatch.setattr(pipeline, "PROGRESS_EVERY_S", 0.0)
    monkeypatch.setattr(r._Progress, "__call__", drop_on_first_progress)
    run = backup_now(pg_plan, people.bob)
    admin.close()
    assert dropped and run.status == RunStatus.FAILED and "pg_dump failed" in run.error
    assert not Artifact.objects.filter(run=run).exists()
    assert not BackupRun.objects.filter(status=RunStatus.RUNNING).exists()
    assert not list(Path(r.local_root(pg_plan.destination)).rglob("*.zst*"))


def test_a_restore_tests_own_server_is_marked_throwaway_and_runs_without_durability_or_wal() -> None:
    import psycopg2

    from backups import sandbox

    with sandbox.postgresql() as params:
        assert params.extra["throwaway"] is True
        conn = psycopg2.connect(
            host=params.host, port=params.port, user=params.username, password=params.password, dbname="postgres"
        )
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT current_setting('wal_level'), current_setting('fsync')")
                assert cur.fetchone() == ("minimal", "off")
        finally:
            conn.close()
