"""The destination fills up mid-backup (a 512 KiB tmpfs mounted for the test): a clear failure, nothing partial."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg2
import pytest

from backups.models import Artifact, BackupRun, RunStatus


@pytest.fixture
def small_disk(tmp_path: Path, settings: Any) -> Iterator[Path]:
    mount = tmp_path / "small"
    mount.mkdir()
    assert os.geteuid() == 0, "mounting the small filesystem needs root (the test machines run as root)"
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k,mode=0700", "tmpfs", str(mount)], check=True)
    settings.DBDECK_BACKUP_ROOT = mount
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


def test_a_full_destination_fails_the_run_in_words_and_leaves_no_partial_file(
    small_disk: Path, pg_plan: Any, people: Any, backup_now: Any, servers: Any
) -> None:
    pg = servers.postgresql
    with (
        psycopg2.connect(
            host=pg.host, port=pg.port, user=pg.username, password=pg.password, dbname=pg_plan.connection.database
        ) as conn,
        conn.cursor() as cur,
    ):
        cur.execute(
            "INSERT INTO orders (item) SELECT md5(g::text) || md5((g*7)::text) FROM generate_series(1, 100000) g"
        )
    run = backup_now(pg_plan, people.bob)
    assert run.status == RunStatus.FAILED and "destination folder is full" in run.error
    assert not Artifact.objects.exists() and not BackupRun.objects.filter(status=RunStatus.RUNNING).exists()
    assert [p for p in small_disk.rglob("*") if p.is_file()] == []
