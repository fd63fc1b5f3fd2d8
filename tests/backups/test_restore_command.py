"""`manage.py restore` from the manifest alone, with dbdeck's own database empty (a fresh var folder)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg2
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def run_restore(tmp_path: Path, *argv: str, password: str = "") -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DBDECK_VAR_DIR": str(tmp_path / "fresh-var"),  # a new, empty metadata database
        "DBDECK_BACKUP_KEYS": ",".join(settings.DBDECK_BACKUP_KEYS),
        "DBDECK_TARGET_PASSWORD": password,
    }
    return subprocess.run(
        [sys.executable, "manage.py", "restore", *argv], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def test_restore_works_from_the_manifest_alone_with_an_empty_dbdeck_database(
    pg_plan: Any, people: Any, backup_now: Any, servers: Any, tmp_path: Path, process_watcher: Any
) -> None:
    from backups.models import Artifact

    run = backup_now(pg_plan, people.bob)
    artifact = Artifact.objects.get(run=run)
    pg = servers.postgresql
    target = f"{pg_plan.connection.database}_copy"
    url = f"postgresql://{pg.username}@{pg.host}:{pg.port}/{target}"
    done = run_restore(tmp_path, artifact.manifest_url, "--target", url, password=pg.password)
    assert done.returncode == 0, done.stderr
    assert "counts match" in done.stdout and "table public.orders: 1000" in done.stdout
    conn = psycopg2.connect(host=pg.host, port=pg.port, user=pg.username, password=pg.password, dbname=target)
    with conn.cursor() as cur:
        cur.execute("SELECT count(*), sum(amount) FROM orders")
        assert cur.fetchone() == (1000, 750750)
    conn.close()
    for seen in process_watcher.sightings:
        assert pg.password not in " ".join(seen.argv)
    admin = psycopg2.connect(host=pg.host, port=pg.port, user=pg.username, password=pg.password, dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE "{target}" WITH (FORCE)')
    admin.close()


def test_restore_refuses_a_damaged_artifact_and_says_which_part(
    pg_plan: Any, people: Any, backup_now: Any, servers: Any, tmp_path: Path
) -> None:
    from backups.models import Artifact

    artifact = Artifact.objects.get(run=backup_now(pg_plan, people.bob))
    part = Path(artifact.location) / artifact.manifest["parts"][0]["stored_name"]
    data = bytearray(part.read_bytes())
    data[100] ^= 0xFF
    part.write_bytes(bytes(data))
    pg = servers.postgresql
    url = f"postgresql://{pg.username}@{pg.host}:{pg.port}/{pg_plan.connection.database}_bad"
    done = run_restore(tmp_path, artifact.manifest_url, "--target", url, password=pg.password)
    assert done.returncode != 0 and "Checksum mismatch" in done.stderr and "dump.pgcustom" in done.stderr


def test_a_dry_run_lists_the_objects_and_restores_nothing(
    pg_plan: Any, people: Any, backup_now: Any, tmp_path: Path
) -> None:
    from backups.models import Artifact

    artifact = Artifact.objects.get(run=backup_now(pg_plan, people.bob))
    done = run_restore(tmp_path, artifact.manifest_url, "--target", "postgresql://x@127.0.0.1:1/none", "--dry-run")
    assert done.returncode == 0 and "public.orders: 1000" in done.stdout
