"""Backups' fixtures: Acme's PostgreSQL database with hostile names, a local destination, a plan."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from backups.models import BackupPlan, Destination
    from connections.models import Connection
    from tests.fixtures import People
    from tests.services import Servers

HOSTILE_TABLE = 'odd "name"; <script>x</script> ü'


@pytest.fixture(autouse=True)
def backup_root(tmp_path: Path, settings: Any) -> Path:
    root = tmp_path / "backups"
    root.mkdir()
    settings.DBDECK_BACKUP_ROOT = root
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return root


@pytest.fixture
def pg_db(servers: Servers) -> Iterator[str]:
    """A fresh database on the private PostgreSQL with a few tables, one of them hostile, dropped afterwards."""
    import psycopg2

    pg = servers.postgresql
    name = f"shop_{secrets.token_hex(4)}"
    admin = psycopg2.connect(host=pg.host, port=pg.port, user=pg.username, password=pg.password, dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    conn = psycopg2.connect(host=pg.host, port=pg.port, user=pg.username, password=pg.password, dbname=name)
    with conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE orders (id serial PRIMARY KEY, item text, amount numeric, data bytea)")
        cur.execute(
            "INSERT INTO orders (item, amount, data) SELECT 'item ' || g, g * 1.5, decode('00ff', 'hex')"
            " FROM generate_series(1, 1000) g"
        )
        cur.execute('CREATE SCHEMA "-dash"')
        cur.execute('CREATE TABLE "-dash".' + '"' + HOSTILE_TABLE.replace('"', '""') + '" (v text)')
        cur.execute(
            'INSERT INTO "-dash".' + '"' + HOSTILE_TABLE.replace('"', '""') + '" VALUES (%s), (%s)',
            ["'; DROP", "\u2603"],
        )
    conn.close()
    yield name
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


@pytest.fixture
def acme_pg(servers: Servers, people: People, pg_db: str) -> Connection:
    from connections.models import Connection

    pg = servers.postgresql
    connection = Connection(
        team=people.acme,
        name="Shop DB",
        engine="postgresql",
        host=pg.host,
        port=pg.port,
        database=pg_db,
        username=pg.username,
        options={"tls_mode": "disable"},
    )
    connection.set_secret(pg.password)
    connection.save()
    return connection


@pytest.fixture
def local_destination(people: People) -> Destination:
    from backups.models import Destination

    return Destination.objects.create(team=people.acme, name="Local", kind="local")


@pytest.fixture
def pg_plan(acme_pg: Connection, local_destination: Destination, people: People) -> BackupPlan:
    from backups.models import BackupPlan

    return BackupPlan.objects.create(
        connection=acme_pg, name="nightly", destination=local_destination, created_by=people.alice
    )


@pytest.fixture
def backup_now(django_capture_on_commit_callbacks: Any) -> Any:
    """Queue a backup run and let the (eager) task run as the commit would, then read the run back."""
    from backups import runner

    def run(plan: BackupPlan, user: Any = None) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            made = runner.queue(plan, user=user)
        made.refresh_from_db()
        return made

    return run


@pytest.fixture
def restore_test_now(django_capture_on_commit_callbacks: Any) -> Any:
    from backups import restore_tests

    def run(plan: BackupPlan, user: Any = None) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            made = restore_tests.queue(plan, user=user)
        made.refresh_from_db()
        return made

    return run
