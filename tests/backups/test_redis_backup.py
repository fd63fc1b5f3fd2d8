"""Redis backups against the private server: RDB through SYNC, or DUMP + TTL from SCAN; restore-tests verify."""

from __future__ import annotations

from typing import Any

import pytest
import redis

from backups.models import Artifact, BackupPlan, RunStatus
from connections.engines.redis.backup import RedisBackup
from connections.models import Connection

KEYS = {b"plain": b"v", "ünï\n'\"<script>".encode(): b"\x00\xff binary", b"\x00nul-key": b"x"}


@pytest.fixture
def redis_db(servers: Any) -> Any:
    r = servers.redis
    client = redis.Redis(host=r.host, port=r.port, password=r.password, db=7)
    client.flushdb()
    for k, v in KEYS.items():
        client.set(k, v)
    client.set(b"session:1", b"s", ex=3600)
    client.hset(b"user:1", mapping={"name": "ada", "n": "1"})
    client.rpush(b"queue", *[str(i) for i in range(50)])
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def redis_plan(servers: Any, people: Any, redis_db: Any, local_destination: Any) -> BackupPlan:
    r = servers.redis
    connection = Connection(
        team=people.acme,
        name="Cache",
        engine="redis",
        host=r.host,
        port=r.port,
        database="7",
        options={"tls_mode": "disable"},
    )
    connection.set_secret(r.password)
    connection.save()
    return BackupPlan.objects.create(connection=connection, name="cache hourly", destination=local_destination)


def test_a_redis_backup_takes_an_rdb_snapshot_through_sync_and_its_restore_test_passes(
    redis_plan: BackupPlan, people: Any, backup_now: Any, restore_test_now: Any
) -> None:
    run = backup_now(redis_plan, people.bob)
    assert run.status == RunStatus.SUCCEEDED, run.error
    body = Artifact.objects.get(run=run).manifest
    assert body["method"] == "rdb" and body["parts"][0]["name"] == "dump.rdb"
    assert {"name": "db7", "kind": "keyspace", "count": 6, "checksum": ""} in body["objects"]
    test = restore_test_now(redis_plan, people.bob)
    assert test.status == RunStatus.SUCCEEDED, (test.error, test.checks)


def test_without_sync_the_logical_stream_keeps_binary_keys_and_ttls(
    redis_plan: BackupPlan, people: Any, backup_now: Any, monkeypatch: Any, servers: Any
) -> None:
    from backups.restore_tests import restore_into
    from backups.runner import store_for
    from connections.engines import adapter_class

    monkeypatch.setattr(RedisBackup, "try_sync", False)
    run = backup_now(redis_plan, people.bob)
    artifact = Artifact.objects.get(run=run)
    assert artifact.manifest["method"] == "dump-scan"
    r = servers.redis
    target = redis.Redis(host=r.host, port=r.port, password=r.password, db=8)
    target.flushdb()
    adapter = adapter_class("redis")(r.params(database="8"))
    report = restore_into(
        store_for(artifact.destination, artifact.location), artifact.manifest, RedisBackup(adapter), "8"
    )
    assert report.ok, report.error
    for k, v in KEYS.items():
        assert target.get(k) == v
    assert 3000 < target.ttl(b"session:1") <= 3600 and target.ttl(b"plain") == -1
    assert target.lrange(b"queue", 0, -1)[-1] == b"49" and target.hgetall(b"user:1")[b"name"] == b"ada"
    again = restore_into(
        store_for(artifact.destination, artifact.location), artifact.manifest, RedisBackup(adapter), "8"
    )
    assert not again.ok and "BUSYKEY" in again.error  # stops at the first key already there unless clean
    target.flushdb()
    target.close()


def test_a_plan_with_key_patterns_streams_only_those_keys_and_says_why(
    redis_plan: BackupPlan, people: Any, backup_now: Any, restore_test_now: Any
) -> None:
    redis_plan.scope = {"patterns": ["user:*", "session:*"]}
    redis_plan.save()
    run = backup_now(redis_plan, people.bob)
    body = Artifact.objects.get(run=run).manifest
    assert body["method"] == "dump-scan" and "key patterns" in body["notes"]["reason"]
    assert [(o["name"], o["count"]) for o in body["objects"]] == [("db7:user:*", 1), ("db7:session:*", 1)]
    test = restore_test_now(redis_plan, people.bob)
    assert test.status == RunStatus.SUCCEEDED, (test.error, test.checks)
