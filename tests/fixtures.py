"""Named people and teams for tests: alice administers Acme, bob edits, carol views,
charlie administers another team and must never see Acme's things."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.procwatch import ProcessWatcher

if TYPE_CHECKING:  # models load after pytest-django has set Django up
    from django.contrib.auth.models import User
    from django.test import Client

    from accounts.models import Team
    from connections.models import Connection
    from tests.services import Servers

PASSWORD = "correct horse battery staple"


@dataclass
class People:
    alice: User
    bob: User
    carol: User
    charlie: User
    acme: Team
    globex: Team


@pytest.fixture
def people(db: Any) -> People:
    from django.contrib.auth.models import User

    from accounts.models import Membership, Role, Team

    acme = Team.objects.create(name="Acme")
    globex = Team.objects.create(name="Globex")
    users = {name: User.objects.create_user(name, password=PASSWORD) for name in ("alice", "bob", "carol", "charlie")}
    Membership.objects.create(user=users["alice"], team=acme, role=Role.ADMIN)
    Membership.objects.create(user=users["bob"], team=acme, role=Role.EDITOR)
    Membership.objects.create(user=users["carol"], team=acme, role=Role.VIEWER)
    Membership.objects.create(user=users["charlie"], team=globex, role=Role.ADMIN)
    return People(acme=acme, globex=globex, **users)


@pytest.fixture
def sqlite_root(tmp_path: Path, settings: Any) -> Path:
    root = tmp_path / "sqlite-root"
    root.mkdir()
    settings.DBDECK_SQLITE_ROOTS = [str(root)]
    return root


def team_sqlite_dir(root: Path, team: Team) -> Path:
    """The team's own folder under a SQLite root, where its SQLite connections may open files."""
    from connections.policy import team_folder

    folder = team_folder(root, team.pk)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def acme_sqlite_dir(sqlite_root: Path, people: People) -> Path:
    return team_sqlite_dir(sqlite_root, people.acme)


@pytest.fixture
def sqlite_file(acme_sqlite_dir: Path) -> Path:
    import sqlite3

    path = acme_sqlite_dir / "shop.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
        db.execute("INSERT INTO t (name) VALUES ('x')")
    return path


@pytest.fixture
def acme_sqlite(people: People, sqlite_file: Path) -> Connection:
    from connections.models import Connection

    return Connection.objects.create(team=people.acme, name="Acme shop", engine="sqlite", database=str(sqlite_file))


@pytest.fixture
def s3_client(servers: Servers) -> Any:
    """boto3 on the moto S3 server, for arranging buckets and reading them back."""
    import boto3
    from botocore.config import Config

    s = servers.s3
    return boto3.client(
        "s3",
        endpoint_url=s.extra["endpoint_url"],
        aws_access_key_id=s.username,
        aws_secret_access_key=s.password,
        region_name=s.extra.get("region", "us-east-1"),
        config=Config(s3={"addressing_style": "path"}),
    )


@pytest.fixture
def acme_s3(servers: Servers, people: People) -> Connection:
    """Acme's saved connection to the moto S3 server."""
    from connections.models import Connection

    s = servers.s3
    host, port = s.extra["endpoint_url"].rsplit("//", 1)[1].split(":")
    connection = Connection(
        team=people.acme,
        name="objects",
        engine="s3",
        host=host,
        port=int(port),
        username=s.username,
        options={"tls_mode": "disable", "region": "us-east-1", "addressing_style": "path"},
    )
    connection.set_secret(s.password)
    connection.save()
    return connection


@pytest.fixture
def process_watcher() -> Iterator[ProcessWatcher]:
    """Every process started while the test runs, with its argv and environment (tests/procwatch.py).

    Use it wherever dbdeck may start a process (dump and restore tools, the run script) to
    assert that no credential reaches a command line.
    """
    watcher = ProcessWatcher().start()
    yield watcher
    watcher.stop()


def client_for(user: User | None) -> Client:
    from django.test import Client

    client = Client()
    if user is not None:
        client.force_login(user)
    return client
