"""S3 prefix snapshots against moto: every object and a listing in the artifact, restore-tested in a sandbox bucket."""

from __future__ import annotations

import json
import secrets
from typing import Any

from backups.models import Artifact, BackupPlan, RunStatus
from connections.models import Connection

ODD_KEYS = ["data/a.txt", "data/../escape", "data//double", "data/ü <script>.bin", "other/not-in-scope"]


def _s3(servers: Any, people: Any, name: str, bucket: str) -> Connection:
    s = servers.s3
    host, port = s.extra["endpoint_url"].rsplit("//", 1)[1].split(":")
    c = Connection(
        team=people.acme,
        name=name,
        engine="s3",
        host=host,
        port=int(port),
        username=s.username,
        database=bucket,
        options={"tls_mode": "disable", "region": "us-east-1", "addressing_style": "path"},
    )
    c.set_secret(s.password)
    c.save()
    return c


def test_an_s3_prefix_snapshot_restores_into_a_sandbox_bucket_with_matching_checksums(
    servers: Any, people: Any, s3_client: Any, local_destination: Any, backup_now: Any, restore_test_now: Any
) -> None:
    source, sandbox = f"src-{secrets.token_hex(4)}", f"sandbox-{secrets.token_hex(4)}"
    for bucket in (source, sandbox):
        s3_client.create_bucket(Bucket=bucket)
    for i, key in enumerate(ODD_KEYS):
        s3_client.put_object(Bucket=source, Key=key, Body=bytes([i]) * (1000 + i))
    plan = BackupPlan.objects.create(
        connection=_s3(servers, people, "objects src", source),
        sandbox=_s3(servers, people, "objects sandbox", sandbox),
        name="objects nightly",
        destination=local_destination,
        scope={"patterns": ["data/"]},
    )
    run = backup_now(plan, people.bob)
    assert run.status == RunStatus.SUCCEEDED, run.error
    body = Artifact.objects.get(run=run).manifest
    [obj] = body["objects"]
    assert obj["name"] == f"{source}/data/" and obj["count"] == 4 and len(obj["checksum"]) == 64
    assert all(p["name"].startswith("objects/") or p["name"] == "listing.jsonl" for p in body["parts"])
    test = restore_test_now(plan, people.bob)
    assert test.status == RunStatus.SUCCEEDED, (test.error, test.checks)
    assert [c["ok"] for c in test.checks] == [True, True, True]  # restored, count, checksum
    left = s3_client.list_objects_v2(Bucket=sandbox).get("Contents", [])
    assert left == []  # the restore-test's prefix was dropped afterwards
    assert json.dumps(body).count("etag") == 0  # ETags live in the listing part, not the manifest
