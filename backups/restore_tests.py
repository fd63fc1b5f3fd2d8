"""Restore-tests: the newest artifact restored into a sandbox, then checked against its manifest.

The sandbox is an ephemeral private server the worker starts (sandbox.py) or, for engines
without one (MongoDB, S3), a connection of the team tagged `sandbox` in its options, where a
fresh database or prefix is made and dropped afterwards. The restore stops at the first error;
then every object of the manifest must exist with the recorded count (and checksum where one
was recorded), and each verification query must answer what the plan expects. The RTO is the
wall time of download + decrypt + decompress + restore + verify.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import secrets
import time
from collections.abc import Iterator
from typing import Any

from django.utils import timezone

from audit.record import record
from backups import alerts, manifest
from backups.crypto.encrypt import configured_keys
from backups.destinations import StoreError
from backups.models import Artifact, BackupPlan, RestoreTest, RunStatus
from backups.pipeline import ArtifactSource, ChecksumMismatch
from backups.runner import store_for, worker_name
from connections.engines import EngineError, adapter_class
from connections.engines.base import ConnectionParams
from connections.engines.capabilities import Backup
from connections.engines.results import BackupManifest, ObjectCount, RestoreReport

log = logging.getLogger(__name__)


def restore_into(store: Any, body: dict, backup: Backup, target: str, *, clean: bool = False) -> RestoreReport:
    """Restore one artifact (its store and manifest) through a Backup capability."""
    made = manifest.from_dict(body)
    source = ArtifactSource(
        store, made.parts, configured_keys() if manifest.key_id(body) else [], bool(manifest.key_id(body))
    )
    return backup.restore(source, made, target, clean=clean)


def compare(expected: list[ObjectCount], found: list[ObjectCount]) -> list[dict[str, Any]]:
    """One check per object of the manifest: it exists, its count matches, its checksum where recorded."""
    now = {o.name: o for o in found}
    # A copy restored under another database name: the same table in the renamed namespace.
    renamed = {o.name.partition(".")[2]: o for o in found}
    checks = []
    for want in expected:
        got = now.get(want.name) or (
            renamed.get(want.name.partition(".")[2]) if len({o.name.partition(".")[0] for o in expected}) == 1 else None
        )
        if got is None:
            checks.append({"name": f"{want.kind} {want.name} exists", "ok": False, "detail": "missing after restore"})
            continue
        ok = got.count == want.count
        checks.append(
            {
                "name": f"{want.kind} {want.name}: count",
                "ok": ok,
                "detail": f"{got.count} restored, {want.count} dumped",
            }
        )
        if want.checksum:
            same = got.checksum == want.checksum
            checks.append(
                {"name": f"{want.kind} {want.name}: checksum", "ok": same, "detail": "match" if same else "differs"}
            )
    return checks


@contextlib.contextmanager
def sandbox_for(plan: BackupPlan, made: BackupManifest) -> Iterator[tuple[Backup, str, str]]:
    """(the sandbox's Backup capability, the restore target there, what the sandbox is in words)."""
    from backups.sandbox import STARTERS, ephemeral

    engine = made.engine
    # Redis and SQLite always get a private server or file: their targets are not named databases.
    if engine in STARTERS and (plan.sandbox_id is None or engine in ("redis", "sqlite")):
        with ephemeral(engine, made.server_version) as params:
            adapter = adapter_class(engine)(params)
            with adapter:
                backup = adapter.get(Backup)
                assert backup is not None
                # Redis keeps the dumped db index, so counts name the same keyspace.
                targets = {"sqlite": params.database, "redis": made.notes.get("db", "0")}
                target = targets.get(engine, "dbdeck_restore_test")
                yield backup, target, f"ephemeral {made.server_version or engine} (removed afterwards)"
        return
    sandbox = plan.sandbox
    if sandbox is None or sandbox.production or sandbox.engine != engine or sandbox.team_id != plan.connection.team_id:
        raise EngineError(
            f"{adapter_class(engine).display_name} has no ephemeral sandbox: choose a non-production connection of "
            "the team as the plan's sandbox for its restore-tests.",
            kind="config",
        )
    params: ConnectionParams = sandbox.params()
    adapter = adapter_class(engine)(params)
    with adapter:
        backup = adapter.get(Backup)
        assert backup is not None
        target = f"dbdeck_restore_test_{secrets.token_hex(4)}"
        try:
            yield backup, target, f"sandbox connection {sandbox.name}"
        finally:
            with contextlib.suppress(Exception):
                backup.drop_target(target)


def claim(test_id: int) -> bool:
    now = timezone.now()
    return bool(
        RestoreTest.objects.filter(pk=test_id, status=RunStatus.QUEUED).update(
            status=RunStatus.RUNNING, started_at=now, heartbeat_at=now, worker=worker_name(), phase="starting sandbox"
        )
    )


def execute(test_id: int) -> str:
    if not claim(test_id):
        return "skipped"
    test = RestoreTest.objects.select_related("artifact__destination", "plan__connection").get(pk=test_id)
    artifact, plan = test.artifact, test.plan
    checks: list[dict[str, Any]] = []
    phases: dict[str, float] = {}
    try:
        made = manifest.from_dict(artifact.manifest)
        store = store_for(artifact.destination, artifact.location)
        with sandbox_for(plan, made) as (backup, target, where):
            RestoreTest.objects.filter(pk=test.pk).update(sandbox=where, phase="restoring", heartbeat_at=timezone.now())
            started = time.monotonic()
            report = restore_into(store, artifact.manifest, backup, target)
            phases["download_decrypt_decompress_restore_s"] = round(time.monotonic() - started, 3)
            checks.append({"name": "restore stops at no error", "ok": report.ok, "detail": report.error or "clean"})
            if report.ok:
                RestoreTest.objects.filter(pk=test.pk).update(phase="verifying", heartbeat_at=timezone.now())
                verify_started = time.monotonic()
                checks += compare(made.objects, backup.count(made.scope, target))
                checks += _queries(plan, backup, target)
                phases["verify_s"] = round(time.monotonic() - verify_started, 3)
            rto = round(time.monotonic() - started, 3)
        ok = all(c["ok"] for c in checks)
        error = "" if ok else "; ".join(f"{c['name']}: {c['detail']}" for c in checks if not c["ok"])[:2000]
        return _finish(test, RunStatus.SUCCEEDED if ok else RunStatus.FAILED, error, checks, phases, rto if ok else rto)
    except ChecksumMismatch as exc:
        checks.append({"name": "artifact checksum", "ok": False, "detail": str(exc)})
        return _finish(test, RunStatus.FAILED, str(exc), checks, phases, None)
    except (EngineError, StoreError, ValueError) as exc:
        return _finish(test, RunStatus.FAILED, str(exc), checks, phases, None)
    except Exception:
        log.exception("restore-test %s failed", test_id)
        return _finish(
            test, RunStatus.FAILED, "The restore-test failed unexpectedly; see the worker log.", checks, phases, None
        )


def _queries(plan: BackupPlan, backup: Backup, target: str) -> list[dict[str, Any]]:
    out = []
    for item in plan.verify_queries or []:
        query, expected = str(item.get("query", "")), str(item.get("expected", ""))
        try:
            got = backup.scalar(query, target)
            out.append(
                {"name": f"query {query[:80]}", "ok": got == expected, "detail": f"{got!r}, expected {expected!r}"}
            )
        except (EngineError, NotImplementedError) as exc:
            out.append({"name": f"query {query[:80]}", "ok": False, "detail": str(exc)})
    return out


def _finish(test: RestoreTest, status: str, error: str, checks: list, phases: dict, rto: float | None) -> str:
    RestoreTest.objects.filter(pk=test.pk).update(
        status=status,
        finished_at=timezone.now(),
        error=error,
        checks=checks,
        phases=phases,
        rto_seconds=rto if status == RunStatus.SUCCEEDED else None,
        phase="",
    )
    record(
        "backup.restore_test",
        actor=test.started_by,
        connection=test.plan.connection,
        target=test.plan.name,
        restore_test=test.pk,
        status=status,
        rto_seconds=rto,
        error=error,
    )
    if status != RunStatus.SUCCEEDED:
        alerts.restore_test_failed(RestoreTest.objects.get(pk=test.pk))
    return status


def queue(plan: BackupPlan, *, user: Any = None, scheduled_for: dt.datetime | None = None) -> RestoreTest | None:
    """A restore-test of the plan's newest artifact (None: no artifact yet, or that slot is already queued)."""
    from django.db import IntegrityError, transaction

    artifact = Artifact.objects.filter(plan=plan, deleted_at__isnull=True).order_by("-created_at").first()
    if artifact is None:
        return None
    try:
        with transaction.atomic():
            test = RestoreTest.objects.create(
                artifact=artifact,
                plan=plan,
                started_by=user,
                trigger="schedule" if scheduled_for else "manual",
                scheduled_for=scheduled_for,
            )
    except IntegrityError:
        return None
    from backups.tasks import run_restore_test

    transaction.on_commit(lambda: run_restore_test.delay(test.pk))
    return test


def reap_tests(cutoff: dt.datetime, now: dt.datetime) -> list[int]:
    reaped = []
    for test in RestoreTest.objects.filter(status=RunStatus.RUNNING, heartbeat_at__lt=cutoff):
        # A restore-test heartbeats per phase; a long restore gets four timeouts before it is called lost.
        if test.heartbeat_at and test.heartbeat_at > cutoff - (now - cutoff) * 3:
            continue
        if RestoreTest.objects.filter(pk=test.pk, status=RunStatus.RUNNING).update(
            status=RunStatus.FAILED, finished_at=now, error="Worker lost during the restore-test.", phase=""
        ):
            reaped.append(test.pk)
    return reaped
