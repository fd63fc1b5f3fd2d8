"""API fixtures: a token per person (ceiling admin, so the owner's role decides), clients that send them,
and Acme's connections to the real PostgreSQL, Redis and S3 servers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.fixtures import People

if TYPE_CHECKING:
    from django.test import Client

    from connections.models import Connection
    from tests.services import Servers

PG_SCHEMA = "api 'q\"s"
PG_TABLE = "items <script>"
REDIS_DB = 6
BUCKET = "api-bucket"


def token_for(user: Any, ceiling: str = "admin", team: Any = None, days: int = 30) -> str:
    from accounts.models import Role
    from api import tokens

    return tokens.issue(user, name=f"{user.username}'s <token>", ceiling=Role(ceiling), days=days, team=team)[1]


def bearer(secret: str | None) -> Client:
    from django.test import Client

    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}") if secret else Client()


@pytest.fixture
def tokens(people: People) -> dict[str, str]:
    return {who: token_for(getattr(people, who)) for who in ("alice", "bob", "carol", "charlie")}


@pytest.fixture
def acme_pg(servers: Servers, people: People) -> Connection:
    import psycopg2
    from psycopg2 import sql

    from connections.models import Connection

    pg = servers.postgresql
    db = psycopg2.connect(host=pg.host, port=pg.port, user=pg.username, password=pg.password, dbname=pg.database)
    db.autocommit = True
    with db.cursor() as cur:
        schema, table = sql.Identifier(PG_SCHEMA), sql.Identifier(PG_TABLE)
        cur.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(schema))
        cur.execute(sql.SQL("CREATE SCHEMA {}").format(schema))
        cur.execute(sql.SQL("CREATE TABLE {}.{} (id int PRIMARY KEY, name text, data bytea)").format(schema, table))
        cur.execute(
            sql.SQL("INSERT INTO {}.{} SELECT g, 'item ' || g, '\\x00ff'::bytea FROM generate_series(1, 250) g").format(
                schema, table
            )
        )
        cur.execute(sql.SQL("UPDATE {}.{} SET name = %s WHERE id = 1").format(schema, table), ["=1+1 <b>'\"`"])
        cur.execute(sql.SQL("ANALYZE {}.{}").format(schema, table))
    db.close()
    connection = Connection(
        team=people.acme,
        name="warehouse",
        engine="postgresql",
        host=pg.host,
        port=pg.port,
        database=pg.database,
        username=pg.username,
        options={"tls_mode": "disable"},
    )
    connection.set_secret(pg.password)
    connection.save()
    return connection


@pytest.fixture
def acme_redis(servers: Servers, people: People) -> Connection:
    import redis

    from connections.models import Connection

    rs = servers.redis
    client = redis.Redis(host=rs.host, port=rs.port, password=rs.password, db=REDIS_DB)
    client.flushdb()
    for i in range(30):
        client.set(f"user:{i}:name", f"name {i}")
    client.hset("profile", mapping={"a": "<b>1</b>", "b": "2"})
    client.set(b"bin:\xff\x00", b"\x00\x01")
    connection = Connection(
        team=people.acme,
        name="cache",
        engine="redis",
        host=rs.host,
        port=rs.port,
        database=str(REDIS_DB),
        options={"tls_mode": "disable"},
    )
    connection.set_secret(rs.password)
    connection.save()
    yield connection
    client.flushdb()


@pytest.fixture
def bucket(acme_s3: Connection, s3_client: Any) -> str:
    try:
        s3_client.create_bucket(Bucket=BUCKET)
    except s3_client.exceptions.BucketAlreadyOwnedByYou:
        pass
    for i in range(5):
        s3_client.put_object(Bucket=BUCKET, Key=f"reports/{i}.txt", Body=f"report {i}".encode())
    s3_client.put_object(Bucket=BUCKET, Key="top <x>.bin", Body=b"\x00\xff")
    return BUCKET
