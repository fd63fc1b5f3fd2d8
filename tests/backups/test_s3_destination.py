"""Backups to S3 through a saved S3 connection (moto server): multipart, retries, Cancel and faults."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from backups.models import Artifact, BackupPlan, Destination, RunStatus
from connections.models import Connection
from tests.services import FaultProxy


def _s3_connection(people: Any, servers: Any, port: int, name: str) -> Connection:
    s = servers.s3
    connection = Connection(
        team=people.acme,
        name=name,
        engine="s3",
        host="127.0.0.1",
        port=port,
        username=s.username,
        options={"tls_mode": "disable", "region": "us-east-1", "addressing_style": "path"},
    )
    connection.set_secret(s.password)
    connection.save()
    return connection


@pytest.fixture
def bucket(s3_client: Any) -> str:
    import secrets

    name = f"backups-{secrets.token_hex(4)}"
    s3_client.create_bucket(Bucket=name)
    return name


@pytest.fixture
def proxy(servers: Any) -> Iterator[FaultProxy]:
    p = FaultProxy(servers.s3.extra["endpoint_url"])
    yield p
    p.stop()


def _plan(acme_pg: Connection, people: Any, connection: Connection, bucket: str) -> BackupPlan:
    dest = Destination.objects.create(
        team=people.acme, name=f"S3 {connection.name}", kind="s3", s3_connection=connection, bucket=bucket, prefix="db/"
    )
    return BackupPlan.objects.create(connection=acme_pg, name=f"to {connection.name}", destination=dest)


def _keys(s3_client: Any, bucket: str) -> list[str]:
    return [o["Key"] for o in s3_client.list_objects_v2(Bucket=bucket).get("Contents", [])]


def test_a_backup_to_s3_uploads_parts_and_manifest_and_restore_tests_from_there(
    acme_pg: Any, acme_s3: Any, people: Any, bucket: str, s3_client: Any, backup_now: Any, restore_test_now: Any
) -> None:
    plan = _plan(acme_pg, people, acme_s3, bucket)
    run = backup_now(plan, people.bob)
    assert run.status == RunStatus.SUCCEEDED, run.error
    artifact = Artifact.objects.get(run=run)
    assert artifact.manifest_url.startswith(f"s3://{bucket}/db/plan-{plan.pk}/") and artifact.manifest_url.endswith(
        "manifest.json"
    )
    keys = _keys(s3_client, bucket)
    assert any(k.endswith("dump.pgcustom.zst.enc") for k in keys) and any(k.endswith("manifest.json") for k in keys)
    test = restore_test_now(plan, people.bob)
    assert test.status == RunStatus.SUCCEEDED, test.error


def test_s3_answering_slowdown_and_500_for_a_while_is_retried_and_the_backup_succeeds(
    acme_pg: Any, people: Any, servers: Any, bucket: str, proxy: FaultProxy, backup_now: Any, s3_client: Any
) -> None:
    plan = _plan(acme_pg, people, _s3_connection(people, servers, proxy.port, "flaky"), bucket)
    proxy.fail(503, "SlowDown", 3, {"PUT", "POST"})
    proxy.fail(500, "InternalError", 2, {"PUT", "POST"})
    run = backup_now(plan, people.bob)
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert proxy.failed == 5
    assert s3_client.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_s3_failing_past_every_retry_fails_the_run_aborts_the_upload_and_lists_nothing(
    acme_pg: Any, people: Any, servers: Any, bucket: str, proxy: FaultProxy, backup_now: Any, s3_client: Any
) -> None:
    plan = _plan(acme_pg, people, _s3_connection(people, servers, proxy.port, "down"), bucket)
    proxy.fail(503, "SlowDown", 40, {"PUT"})  # every upload_part attempt
    run = backup_now(plan, people.bob)
    assert run.status == RunStatus.FAILED and "SlowDown" in run.error
    assert not Artifact.objects.filter(run=run).exists()
    assert s3_client.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    assert not [k for k in _keys(s3_client, bucket) if k.endswith("manifest.json")]
    proxy.faults.clear()
    again = backup_now(plan, people.bob)
    assert again.status == RunStatus.SUCCEEDED, again.error


def test_cancel_stops_the_dump_and_aborts_the_multipart_upload(
    acme_pg: Any,
    acme_s3: Any,
    people: Any,
    bucket: str,
    s3_client: Any,
    backup_now: Any,
    monkeypatch: Any,
    servers: Any,
) -> None:
    import psycopg2

    from backups import pipeline, runner
    from backups.models import BackupRun

    pg = servers.postgresql
    with (
        psycopg2.connect(
            host=pg.host, port=pg.port, user=pg.username, password=pg.password, dbname=acme_pg.database
        ) as conn,
        conn.cursor() as cur,
    ):
        cur.execute("INSERT INTO orders (item) SELECT repeat(md5(g::text), 8) FROM generate_series(1, 200000) g")
    plan = _plan(acme_pg, people, acme_s3, bucket)
    original = runner._Progress.__call__
    seen: list[int] = []

    def press_cancel(self: Any, read: int, written: int) -> None:
        if not seen and read > 0:
            seen.append(read)
            BackupRun.objects.filter(pk=self.run_id).update(cancel_requested=True)
            assert BackupRun.objects.get(pk=self.run_id).uploads, "the open multipart upload is recorded"
        original(self, read, written)

    monkeypatch.setattr(pipeline, "PROGRESS_EVERY_S", 0.0)
    monkeypatch.setattr(runner._Progress, "__call__", press_cancel)
    run = backup_now(plan, people.bob)
    assert run.status == RunStatus.CANCELLED and run.uploads == []
    assert s3_client.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    assert _keys(s3_client, bucket) == []
    assert not Artifact.objects.exists()


class _Recorded:
    """A PartWriter whose parts wait for a signal before they arrive; its third part fails when `fail` is set."""

    def __init__(self, fail: bool = False) -> None:
        from backups.destinations import PartWriter

        class Slow(PartWriter):
            part_size = 4

            def _send(inner, data: bytearray) -> None:  # noqa: N805 - the writer under test
                with self.lock:
                    self.on_the_way += 1
                    self.most = max(self.most, self.on_the_way)
                # Still on its way until released: a part sent beside it would count two.
                self.waited.append(self.released.wait(5))  # True when the writer went on meanwhile
                with self.lock:
                    self.on_the_way -= 1
                if fail and len(self.parts) == 2:
                    raise OSError("the store refused part 3")
                self.parts.append(bytes(data))

        self.lock = threading.Lock()
        self.released = threading.Event()
        self.waited: list[bool] = []
        self.on_the_way = self.most = 0
        self.parts: list[bytes] = []
        self.writer = Slow()


def test_parts_are_sent_on_a_sender_thread_in_order_one_at_a_time() -> None:
    recorded = _Recorded()
    recorded.writer.write(b"p0\x00\xff")  # a whole part: it goes out, and write returns while it is on its way
    # Released a little later, so the next full part finds it still on its way (and must wait for it).
    release = threading.Timer(0.2, recorded.released.set)
    release.start()
    for i in range(1, 6):
        recorded.writer.write(b"p%d\x00\xff" % i)  # one part each (4 bytes or more)
    recorded.writer.finish()
    recorded.writer.close()
    release.join()
    assert recorded.waited[0] is True  # the first part was still on its way when write returned
    assert recorded.parts == [b"p%d\x00\xff" % i for i in range(6)]
    assert recorded.most == 1


def test_a_part_that_fails_stops_the_writer_at_its_next_full_part() -> None:
    recorded = _Recorded(fail=True)
    recorded.released.set()
    with pytest.raises(OSError, match="part 3"):
        for i in range(10):
            recorded.writer.write(b"p%d\x00\xff" % i)
    recorded.writer.close()
    assert recorded.parts == [b"p0\x00\xff", b"p1\x00\xff"]  # nothing after the failed part was sent
