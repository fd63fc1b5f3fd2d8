"""MongoDB backups against SecantusDB: the mongodump layout written by dbdeck, restore-tested in a sandbox."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

import bson
import pytest

from backups.models import Artifact, BackupPlan, RunStatus
from connections.models import Connection


def _mongo(servers: Any) -> Any:
    from pymongo import MongoClient

    m = servers.mongodb
    return MongoClient(
        host=m.host, port=m.port, username=m.username, password=m.password, authSource="admin", directConnection=True
    )


@pytest.fixture
def mongo_db(servers: Any) -> Any:
    client = _mongo(servers)
    name = f"shop_{secrets.token_hex(4)}"
    db = client[name]
    db.orders.insert_many(
        [{"_id": i, "item": f"item {i}", "tags": ["a", "<b>"], "blob": b"\x00\xff"} for i in range(250)]
    )
    db["we ird/'\"ü"].insert_many([{"v": 1}, {"v": 2}])
    db.orders.create_index([("item", 1)], name="by_item", unique=True)
    yield name
    client.drop_database(name)
    client.close()


def _connection(servers: Any, people: Any, name: str, database: str) -> Connection:
    m = servers.mongodb
    c = Connection(
        team=people.acme,
        name=name,
        engine="mongodb",
        host=m.host,
        port=m.port,
        username=m.username,
        database=database,
        options={"tls_mode": "disable", "auth_source": "admin"},
    )
    c.set_secret(m.password)
    c.save()
    return c


@pytest.fixture
def mongo_plan(servers: Any, people: Any, mongo_db: str, local_destination: Any) -> BackupPlan:
    source = _connection(servers, people, "Mongo shop", mongo_db)
    sandbox = _connection(servers, people, "Mongo sandbox", "")
    return BackupPlan.objects.create(
        connection=source, name="mongo nightly", destination=local_destination, sandbox=sandbox, encrypt=False
    )


def test_a_mongodb_backup_writes_the_mongodump_layout_with_raw_bson_and_index_metadata(
    mongo_plan: BackupPlan, people: Any, backup_now: Any
) -> None:
    import zstandard

    run = backup_now(mongo_plan, people.bob)
    assert run.status == RunStatus.SUCCEEDED, run.error
    artifact = Artifact.objects.get(run=run)
    db = mongo_plan.connection.database
    names = [p["name"] for p in artifact.manifest["parts"]]
    assert f"{db}/orders.bson" in names and f"{db}/orders.metadata.json" in names
    assert all(".." not in n.split("/") for n in names)
    counts = {o["name"]: o["count"] for o in artifact.manifest["objects"]}
    assert counts == {f"{db}.orders": 250, f"{db}.we ird/'\"ü": 2}
    raw = (
        zstandard.ZstdDecompressor()
        .decompressobj()
        .decompress((Path(artifact.location) / f"{db}/orders.bson.zst").read_bytes())
    )
    docs = bson.decode_all(raw)
    assert len(docs) == 250 and docs[0]["blob"] == b"\x00\xff"
    meta = (
        zstandard.ZstdDecompressor()
        .decompressobj()
        .decompress((Path(artifact.location) / f"{db}/orders.metadata.json.zst").read_bytes())
    )
    assert "by_item" in json.dumps(json.loads(meta))


def test_a_mongodb_restore_test_restores_into_the_sandbox_connection_and_drops_it_after(
    mongo_plan: BackupPlan, people: Any, backup_now: Any, restore_test_now: Any, servers: Any
) -> None:
    backup_now(mongo_plan, people.bob)
    test = restore_test_now(mongo_plan, people.bob)
    assert test.status == RunStatus.SUCCEEDED, (test.error, test.checks)
    assert "sandbox connection Mongo sandbox" in test.sandbox
    client = _mongo(servers)
    assert not [d for d in client.list_database_names() if d.startswith("dbdeck_restore_test")]
    client.close()
