"""SQLite backups: the online backup API copy, consistent while another connection writes, restore-tested."""

from __future__ import annotations

import sqlite3
from typing import Any

from backups.models import Artifact, BackupPlan, RunStatus


def test_a_sqlite_backup_copies_a_consistent_file_and_its_restore_test_passes(
    acme_sqlite: Any, sqlite_file: Any, people: Any, local_destination: Any, backup_now: Any, restore_test_now: Any
) -> None:
    with sqlite3.connect(sqlite_file) as db:
        db.execute('CREATE TABLE "we""ird <b>" (v BLOB)')
        db.executemany('INSERT INTO "we""ird <b>" VALUES (?)', [(bytes([i, 0, 255]),) for i in range(100)])
    writer = sqlite3.connect(sqlite_file)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO t (name) VALUES ('uncommitted')")  # not in the copy: it never committed
    plan = BackupPlan.objects.create(connection=acme_sqlite, name="file", destination=local_destination)
    run = backup_now(plan, people.bob)
    writer.rollback()
    writer.close()
    assert run.status == RunStatus.SUCCEEDED, run.error
    counts = {o["name"]: o["count"] for o in Artifact.objects.get(run=run).manifest["objects"]}
    assert counts == {"main.t": 1, 'main.we"ird <b>': 100}
    test = restore_test_now(plan, people.bob)
    assert test.status == RunStatus.SUCCEEDED, (test.error, test.checks)
    assert "ephemeral SQLite" in test.sandbox
