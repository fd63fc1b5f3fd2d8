"""Backups to Google Cloud Storage and Azure Blob Storage (gcp-storage-emulator, Azurite) beside S3 and local.

Each kind: a plan backs up and its restore-test reads the artifact back from the store; a failure
half-way leaves no object; memory stays about one part; wrong keys, unreachable endpoints and
missing buckets fail the run in words; the form refuses a connection of the wrong engine or team.
"""

from __future__ import annotations

import hashlib
import os
import tracemalloc
from typing import Any

import pytest

from backups.cloudstores import AzureStore, GCSStore
from backups.destinations import StoreError
from backups.forms import DestinationForm
from backups.models import Artifact, BackupPlan, Destination, RunStatus
from connections.models import Connection
from tests.cloudstores import Arranger

KINDS = ["gcs", "azure"]
HOSTILE_PREFIX = "dumps/ünï <script>'\"`/x"


@pytest.fixture(params=KINDS)
def store(request: Any, servers: Any) -> Arranger:
    return Arranger(request.param, getattr(servers, request.param))


def _destination(people: Any, store: Arranger, connection: Connection, bucket: str, prefix: str = "") -> Destination:
    return Destination.objects.create(
        team=people.acme,
        name=f"{store.engine} {connection.name}",
        kind=store.engine,
        s3_connection=connection,
        bucket=bucket,
        prefix=prefix,
    )


def _plan(acme_pg: Connection, destination: Destination) -> BackupPlan:
    return BackupPlan.objects.create(connection=acme_pg, name=f"to {destination.name}", destination=destination)


def _store(store: Arranger, connection: Connection, bucket: str, prefix: str) -> GCSStore | AzureStore:
    cls = GCSStore if store.engine == "gcs" else AzureStore
    return cls(connection.adapter(), bucket, prefix)


def test_a_backup_goes_to_the_bucket_under_a_hostile_prefix_and_its_restore_test_reads_it_back(
    acme_pg: Any, people: Any, store: Arranger, backup_now: Any, restore_test_now: Any
) -> None:
    bucket = store.bucket("bk")
    connection = store.connection(people.acme, name=f"{store.engine} store")
    plan = _plan(acme_pg, _destination(people, store, connection, bucket, HOSTILE_PREFIX))
    run = backup_now(plan, people.bob)
    assert run.status == RunStatus.SUCCEEDED, run.error
    artifact = Artifact.objects.get(run=run)
    scheme = "gs" if store.engine == "gcs" else "azure"
    assert artifact.manifest_url.startswith(f"{scheme}://{bucket}/{HOSTILE_PREFIX}/plan-{plan.pk}/")
    keys = store.keys(bucket)
    manifest_key = next(k for k in keys if k.endswith("manifest.json"))
    assert manifest_key.startswith(f"{HOSTILE_PREFIX}/plan-{plan.pk}/")
    dump_key = next(k for k in keys if k.endswith(".zst.enc"))
    assert store.read(bucket, dump_key) and b'"engine"' in (store.read(bucket, manifest_key) or b"")
    test = restore_test_now(plan, people.bob)
    assert test.status == RunStatus.SUCCEEDED, test.error
    assert all(c["ok"] for c in test.checks), test.checks


def test_a_store_writes_many_parts_with_memory_of_about_one_and_reads_the_same_bytes_back(
    people: Any, store: Arranger
) -> None:
    bucket = store.bucket("parts")
    target = _store(store, store.connection(people.acme), bucket, "big")
    block = os.urandom(1 << 20)
    sent = hashlib.sha256()
    tracemalloc.start()
    try:
        with target.writer("dump.bin") as out:
            for i in range(40):  # 40 MiB: five 8 MiB parts
                data = bytes([i]) + block[1:]
                sent.update(data)
                out.write(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 30 << 20, f"peak {peak >> 20} MiB for a 40 MiB upload"
    got = hashlib.sha256()
    with target.reader("dump.bin") as fh:
        while chunk := fh.read(1 << 20):
            got.update(chunk)
    assert got.hexdigest() == sent.hexdigest()
    target.put_bytes("manifest.json", b'{"a": 1}')
    assert target.get_bytes("manifest.json") == b'{"a": 1}'
    target.remove()
    assert store.keys(bucket) == []


def test_a_failure_half_way_leaves_no_object_behind(people: Any, store: Arranger) -> None:
    bucket = store.bucket("half")
    target = _store(store, store.connection(people.acme), bucket, "p")
    with pytest.raises(RuntimeError, match="source broke"), target.writer("dump.bin") as out:
        for _ in range(20):  # two full parts are sent before the source fails
            out.write(os.urandom(1 << 20))
        raise RuntimeError("source broke")
    assert store.keys(bucket) == []
    with pytest.raises(StoreError, match="No such"), target.reader("dump.bin") as fh:
        fh.read()


def test_a_missing_bucket_fails_the_run_in_words_and_records_no_artifact(
    acme_pg: Any, people: Any, store: Arranger, backup_now: Any
) -> None:
    connection = store.connection(people.acme)
    plan = _plan(acme_pg, _destination(people, store, connection, "no-such-bucket-here", "x"))
    run = backup_now(plan, people.bob)
    assert run.status == RunStatus.FAILED
    assert "No such" in run.error and "Traceback" not in run.error
    assert not Artifact.objects.filter(run=run).exists()


def test_an_unreachable_endpoint_fails_the_run_in_words(
    acme_pg: Any, people: Any, store: Arranger, backup_now: Any, closed_port: int
) -> None:
    connection = store.connection(people.acme, name="down")
    options = {**connection.options, "connect_timeout": 1}  # Cloud Storage retries for 12 connect timeouts
    Connection.objects.filter(pk=connection.pk).update(port=closed_port, options=options)
    connection.refresh_from_db()
    plan = _plan(acme_pg, _destination(people, store, connection, "whatever", ""))
    run = backup_now(plan, people.bob)
    assert run.status == RunStatus.FAILED
    assert "reach" in run.error.lower() or "refused" in run.error.lower(), run.error


def test_a_wrong_azure_key_fails_the_run_in_words(acme_pg: Any, people: Any, servers: Any, backup_now: Any) -> None:
    store = Arranger("azure", servers.azure)
    bucket = store.bucket("key")
    connection = store.connection(people.acme, name="wrong key")
    connection.set_secret("d3Jvbmcga2V5IDxzY3JpcHQ+IGluIGJhc2U2NA==")
    connection.save()
    run = backup_now(_plan(acme_pg, _destination(people, store, connection, bucket)), people.bob)
    assert run.status == RunStatus.FAILED and "refused" in run.error, run.error
    assert store.keys(bucket) == []


@pytest.mark.parametrize("kind", KINDS)
def test_the_destination_form_wants_a_connection_of_the_kinds_engine_and_team(
    people: Any, servers: Any, acme_s3: Any, kind: str
) -> None:
    from accounts.models import Team

    store = Arranger(kind, getattr(servers, kind))
    own = store.connection(people.acme, name=f"{kind} own")
    other = store.connection(people.globex, name=f"{kind} theirs")
    candidates = Connection.objects.filter(engine__in=["s3", "gcs", "azure"])
    teams = Team.objects.filter(pk=people.acme.pk)

    def form(connection: Connection, bucket: str = "b") -> DestinationForm:
        data = {"team": people.acme.pk, "name": f"d <script> {kind}", "kind": kind, "bucket": bucket}
        data["s3_connection"] = connection.pk
        return DestinationForm(data, teams=teams, s3_connections=candidates)

    wrong = form(acme_s3)
    assert not wrong.is_valid() and "writes through a" in str(wrong.errors["s3_connection"])
    theirs = form(other)
    assert not theirs.is_valid() and "another team" in str(theirs.errors["s3_connection"])
    nameless = form(own, bucket="")
    assert not nameless.is_valid() and "bucket" in nameless.errors
    good = form(own)
    assert good.is_valid(), good.errors
    saved = good.save()
    assert Destination.objects.get(pk=saved.pk).kind == kind
    assert saved.where.startswith("gs://b" if kind == "gcs" else "azure://b")


def test_the_destination_page_offers_cloud_connections_and_saves_one(client: Any, people: Any, servers: Any) -> None:
    store = Arranger("azure", servers.azure)
    connection = store.connection(people.acme, name="azure for backups")
    client.force_login(people.alice)
    page = client.get("/backups/destinations/new/")
    assert page.status_code == 200 and "azure for backups" in page.content.decode()
    answer = client.post(
        "/backups/destinations/new/",
        {
            "team": people.acme.pk,
            "name": "Azure nightly",
            "kind": "azure",
            "s3_connection": connection.pk,
            "bucket": "nightly",
            "prefix": "db",
        },
    )
    assert answer.status_code == 302
    saved = Destination.objects.get(name="Azure nightly")
    assert (saved.kind, saved.bucket, saved.s3_connection_id) == ("azure", "nightly", connection.pk)
    assert saved.where == "azure://nightly/db"
