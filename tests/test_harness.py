"""The private servers are real, enforce passwords, and have what later features need."""

from __future__ import annotations

import boto3
import psycopg2
import pymysql
import pytest
import redis
from pymongo import MongoClient
from pymongo.errors import OperationFailure
from redis.backoff import NoBackoff
from redis.retry import Retry

from tests.services import Servers


def test_postgresql_preloads_pg_stat_statements_and_has_hypopg(servers: Servers) -> None:
    pg = servers.postgresql
    with psycopg2.connect(host=pg.host, port=pg.port, user=pg.username, password=pg.password, dbname=pg.database) as c:
        with c.cursor() as cur:
            cur.execute("SHOW shared_preload_libraries")
            assert "pg_stat_statements" in cur.fetchone()[0]
            cur.execute("SELECT extname FROM pg_extension ORDER BY 1")
            assert {"hypopg", "pg_stat_statements"} <= {r[0] for r in cur.fetchall()}
            cur.execute("CREATE TEMP TABLE t (a int)")
            cur.execute("SELECT indexname FROM hypopg_create_index('CREATE INDEX ON t (a)')")
            assert "btree_t_a" in cur.fetchone()[0]
    with pytest.raises(psycopg2.OperationalError, match="password"):
        psycopg2.connect(host=pg.host, port=pg.port, user=pg.username, password="wrong", dbname=pg.database)


def test_mariadb_enforces_its_password(servers: Servers) -> None:
    my = servers.mysql
    pymysql.connect(host=my.host, port=my.port, user=my.username, password=my.password).close()
    with pytest.raises(pymysql.err.OperationalError):
        pymysql.connect(host=my.host, port=my.port, user=my.username, password="wrong")
    with pytest.raises(pymysql.err.OperationalError):  # root is for provisioning over the socket only
        pymysql.connect(host=my.host, port=my.port, user="root", password="")


def test_redis_enforces_its_password(servers: Servers) -> None:
    rs = servers.redis
    assert redis.Redis(host=rs.host, port=rs.port, password=rs.password).ping()
    with pytest.raises(redis.AuthenticationError):
        # redis-py retries AuthenticationError with backoff by default (~4 s); once is enough here.
        redis.Redis(host=rs.host, port=rs.port, password="wrong", retry=Retry(NoBackoff(), 0)).ping()


def test_secantusdb_enforces_its_password(servers: Servers) -> None:
    m = servers.mongodb
    ok = MongoClient(
        host=m.host,
        port=m.port,
        username=m.username,
        password=m.password,
        authSource="admin",
        directConnection=True,
        serverSelectionTimeoutMS=5000,
    )
    assert ok.admin.command("ping")["ok"] == 1
    bad = MongoClient(
        host=m.host,
        port=m.port,
        username=m.username,
        password="wrong",
        authSource="admin",
        directConnection=True,
        serverSelectionTimeoutMS=5000,
    )
    with pytest.raises(OperationFailure):
        bad.admin.command("ping")


def test_moto_s3_enforces_its_secret_key(servers: Servers) -> None:
    s = servers.s3
    good = boto3.client(
        "s3",
        endpoint_url=s.extra["endpoint_url"],
        aws_access_key_id=s.username,
        aws_secret_access_key=s.password,
        region_name="us-east-1",
    )
    assert "Buckets" in good.list_buckets()
    bad = boto3.client(
        "s3",
        endpoint_url=s.extra["endpoint_url"],
        aws_access_key_id=s.username,
        aws_secret_access_key="wrong",
        region_name="us-east-1",
    )
    with pytest.raises(bad.exceptions.ClientError):
        bad.list_buckets()


def test_gcp_storage_emulator_answers_the_official_sdk(servers: Servers) -> None:
    from tests.cloudstores import gcs_client, unique

    client = gcs_client(servers.gcs)
    bucket = client.create_bucket(unique("harness"))
    bucket.blob("a/b.txt").upload_from_string(b"hello")
    assert [b.name for b in client.list_blobs(bucket.name)] == ["a/b.txt"]
    assert bucket.blob("a/b.txt").download_as_bytes() == b"hello"


def test_azurite_enforces_its_account_key(servers: Servers) -> None:
    import base64

    from azure.core.credentials import AzureNamedKeyCredential
    from azure.core.exceptions import HttpResponseError
    from azure.storage.blob import BlobServiceClient

    from tests.cloudstores import azure_service

    az = servers.azure
    assert azure_service(az).get_account_information()["sku_name"]
    wrong = AzureNamedKeyCredential(az.username, base64.b64encode(b"wrong" * 8).decode())
    bad = BlobServiceClient(f"http://{az.host}:{az.port}/{az.username}", credential=wrong, retry_total=0)
    with pytest.raises(HttpResponseError) as refused:
        bad.get_account_information()
    assert refused.value.status_code == 403
