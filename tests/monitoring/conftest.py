"""Acme's saved connections to the real servers, for the monitoring tests."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fixtures import People
from tests.services import Server, Servers


def saved(people: People, server: Server, name: str, **options: Any) -> Any:
    from connections.models import Connection

    connection = Connection(
        team=people.acme,
        name=name,
        engine=server.engine,
        host=server.host,
        port=server.port,
        database=server.database,
        username=server.username,
        options={"tls_mode": "disable", **options},
    )
    connection.set_secret(server.password)
    connection.save()
    return connection


@pytest.fixture
def acme_pg(people: People, servers: Servers) -> Any:
    return saved(people, servers.postgresql, "Acme PG")


@pytest.fixture
def acme_mysql(people: People, servers: Servers) -> Any:
    return saved(people, servers.mysql, "Acme MariaDB")


@pytest.fixture
def acme_redis(people: People, servers: Servers) -> Any:
    return saved(people, servers.redis, "Acme Redis")


@pytest.fixture
def acme_mongo(people: People, servers: Servers) -> Any:
    return saved(people, servers.mongodb, "Acme Mongo", auth_source="admin")


def pg_connect(servers: Servers) -> Any:
    import psycopg2

    pg = servers.postgresql
    conn = psycopg2.connect(host=pg.host, port=pg.port, user=pg.username, password=pg.password, dbname=pg.database)
    conn.autocommit = True
    return conn
