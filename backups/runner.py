"""A backup run from claim to artifact: the engine's dump through the pipeline into the plan's destination.

The run is claimed by a conditional UPDATE (queued -> running), so a redelivered message or a
second worker never runs it twice. While bytes flow, the progress callback writes the counters
and the heartbeat at most once a second and reads the Cancel flag; a cancelled or failed run
raises out of the part being written, which kills the dump tool and aborts the upload. The
manifest is stored last and the Artifact row written only after it, so nothing partial is
ever listed as a backup.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from accounts.access import AccessDenied
from accounts.models import Role
from audit.record import record
from backups import alerts, manifest
from backups.cloudstores import AzureStore, GCSStore
from backups.crypto.encrypt import configured_keys
from backups.destinations import LocalStore, S3Store, Store, StoreError, abort_upload, s3_client_for
from backups.models import Artifact, BackupPlan, BackupRun, Destination, DestinationKind, RunStatus
from backups.pipeline import ArtifactSink, Cancelled
from connections.access import get_connection_for
from connections.engines import EngineError
from connections.engines.capabilities import Backup
from connections.engines.results import BackupScope

log = logging.getLogger(__name__)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def scope_of(plan: BackupPlan) -> BackupScope:
    s = plan.scope or {}
    return BackupScope(
        namespaces=tuple(s.get("namespaces", ())),
        objects=tuple(s.get("objects", ())),
        patterns=tuple(s.get("patterns", ())),
    )


def local_root(destination: Destination) -> Path:
    root = Path(settings.DBDECK_BACKUP_ROOT) / f"team-{destination.team_id}"
    folder = (root / destination.folder).resolve() if destination.folder else root
    if folder != root and root not in folder.parents:
        raise StoreError("The destination folder must stay inside the team's backup folder.")
    return folder


def store_for(destination: Destination, location: str, on_upload: Any = None) -> Store:
    """The store of one artifact: `location` is its folder (local) or key prefix (object stores)."""
    if not destination.object_store:
        return LocalStore(Path(location))
    connection = destination.s3_connection
    if connection is None:
        raise StoreError(f"The {destination.get_kind_display()} destination has no connection to write through.")
    if destination.kind == DestinationKind.S3:
        return S3Store(s3_client_for(connection), destination.bucket, location, on_upload)
    try:
        adapter = connection.adapter()
    except EngineError as exc:
        raise StoreError(exc.message) from None
    if destination.kind == DestinationKind.GCS:
        return GCSStore(adapter, destination.bucket, location)
    return AzureStore(adapter, destination.bucket, location)


def artifact_location(run: BackupRun) -> str:
    stamp = (run.started_at or timezone.now()).strftime("%Y%m%dT%H%M%SZ")
    leaf = f"plan-{run.plan_id}/{stamp}-run{run.pk}"
    destination = run.plan.destination
    if destination.object_store:
        prefix = destination.prefix.strip("/")
        return f"{prefix}/{leaf}" if prefix else leaf
    return str(local_root(destination) / leaf)


class _Progress:
    """Writes the counters and the heartbeat; raises Cancelled when Cancel was pressed."""

    def __init__(self, run_id: int) -> None:
        self.run_id = run_id

    def __call__(self, read: int, written: int) -> None:
        now = timezone.now()
        BackupRun.objects.filter(pk=self.run_id).update(bytes_read=read, bytes_written=written, heartbeat_at=now)
        if BackupRun.objects.filter(pk=self.run_id, cancel_requested=True).exists():
            raise Cancelled("Cancelled while running.")

    def upload(self, event: str, upload: dict[str, str]) -> None:
        run = BackupRun.objects.get(pk=self.run_id)
        uploads = [u for u in run.uploads if u.get("upload_id") != upload["upload_id"]]
        if event == "start":
            uploads.append(upload)
        BackupRun.objects.filter(pk=self.run_id).update(uploads=uploads)


def claim(run_id: int) -> bool:
    now = timezone.now()
    return bool(
        BackupRun.objects.filter(pk=run_id, status=RunStatus.QUEUED, cancel_requested=False).update(
            status=RunStatus.RUNNING, started_at=now, heartbeat_at=now, worker=worker_name(), phase="connecting"
        )
    )


def execute(run_id: int) -> str:
    if not claim(run_id):
        BackupRun.objects.filter(pk=run_id, status=RunStatus.QUEUED, cancel_requested=True).update(
            status=RunStatus.CANCELLED, finished_at=timezone.now(), error="Cancelled before it started."
        )
        return "skipped"
    from backups.heartbeat import beating

    with beating(BackupRun, run_id):
        return _execute(run_id)


def _execute(run_id: int) -> str:
    run = BackupRun.objects.select_related("plan__connection", "plan__destination", "started_by").get(pk=run_id)
    plan = run.plan
    progress = _Progress(run.pk)
    store: Store | None = None
    try:
        if run.started_by_id:  # a person's run re-checks their role now; scheduled runs act for the plan
            get_connection_for(run.started_by, plan.connection_id, need=Role.EDITOR)
        location = artifact_location(run)
        store = store_for(plan.destination, location, progress.upload)
        key = configured_keys()[0] if plan.encrypt else None
        with plan.connection.adapter() as adapter:
            backup = adapter.get(Backup)
            if backup is None:
                raise EngineError(f"{adapter.display_name} has no backups.", kind="config")
            scope = scope_of(plan)
            estimate = backup.estimate(scope)
            BackupRun.objects.filter(pk=run.pk).update(estimated_bytes=estimate, phase="dumping")
            sink = ArtifactSink(store, level=plan.compression_level, key=key, progress=progress)
            made = backup.dump(scope, sink)
        made.parts = sink.parts
        BackupRun.objects.filter(pk=run.pk).update(phase="writing the manifest")
        body = manifest.to_dict(
            made,
            compression=f"zstd level {plan.compression_level}",
            key_id=key.id if key else "",
            extra={"plan": plan.name, "connection": plan.connection.name, "run": run.pk},
        )
        store.put_bytes(manifest.NAME, manifest.dumps(body))
        finished = timezone.now()
        Artifact.objects.create(
            run=run,
            plan=plan,
            destination=plan.destination,
            location=location,
            manifest_url=store.url(manifest.NAME),
            manifest=body,
            size=body["size"],
            key_id=key.id if key else "",
        )
        BackupRun.objects.filter(pk=run.pk).update(
            status=RunStatus.SUCCEEDED,
            finished_at=finished,
            bytes_read=sink.read,
            bytes_written=sink.written,
            phase="",
            uploads=[],
        )
        record(
            "backup.run",
            actor=run.started_by,
            connection=plan.connection,
            target=plan.name,
            run=run.pk,
            bytes=sink.written,
            manifest=store.url(manifest.NAME),
        )
        from backups.retention import apply_retention

        apply_retention(plan)
        return "succeeded"
    except Cancelled:
        _discard(store)
        _finish(run, RunStatus.CANCELLED, "Cancelled: the dump was stopped and the partial upload removed.")
        return "cancelled"
    except AccessDenied as exc:
        message = f"Access removed: {exc}"
    except (EngineError, StoreError) as exc:
        message = str(exc)
    except ValueError as exc:  # keys misconfigured and the like: the message says what to fix
        message = str(exc)
    except Exception:
        log.exception("backup run %s failed", run_id)
        message = "The backup failed unexpectedly; the worker log has details."
    _discard(store)
    _finish(run, RunStatus.FAILED, message)
    alerts.backup_failed(BackupRun.objects.get(pk=run.pk))
    return "failed"


def _discard(store: Store | None) -> None:
    if store is None:
        return
    try:
        store.remove()
    except Exception:  # a store that is down cannot be cleaned now; the artifact was never listed
        log.warning("could not remove a partial artifact at %s", store.location)


def _finish(run: BackupRun, status: str, message: str) -> None:
    fresh = BackupRun.objects.select_related("plan__destination").get(pk=run.pk)
    abort_uploads(fresh)
    BackupRun.objects.filter(pk=run.pk).update(
        status=status, finished_at=timezone.now(), error=message[:2000], phase="", uploads=[]
    )
    record(
        f"backup.{status}",
        actor=run.started_by,
        connection=run.plan.connection,
        target=run.plan.name,
        run=run.pk,
        error=message,
    )


def abort_uploads(run: BackupRun) -> int:
    """Abort the run's multipart uploads still open (Cancel, failure, the reaper); how many were aborted."""
    if not run.uploads or run.plan.destination.kind != DestinationKind.S3:
        return 0
    destination = run.plan.destination
    try:
        client = s3_client_for(destination.s3_connection, attempts=3)
    except Exception:
        return 0
    return sum(1 for upload in run.uploads if abort_upload(client, upload))


def reap(now: dt.datetime | None = None) -> list[int]:
    """Runs whose worker vanished (no heartbeat for the timeout) fail as "worker lost"; their uploads go."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(seconds=settings.DBDECK_BACKUP_HEARTBEAT_TIMEOUT_S)
    reaped = []
    for run in BackupRun.objects.select_related("plan__destination", "plan__connection").filter(
        status=RunStatus.RUNNING, heartbeat_at__lt=cutoff
    ):
        if not BackupRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING, heartbeat_at__lt=cutoff).update(
            status=RunStatus.FAILED,
            finished_at=now,
            error=f"Worker lost: no heartbeat from {run.worker or 'the worker'} since "
            f"{run.heartbeat_at:%Y-%m-%d %H:%M:%S} UTC; the partial artifact was discarded.",
            phase="",
        ):
            continue
        abort_uploads(run)
        try:
            _discard(store_for(run.plan.destination, artifact_location(run)))
        except Exception:
            log.warning("could not clean the partial artifact of run %s", run.pk)
        BackupRun.objects.filter(pk=run.pk).update(uploads=[])
        record("backup.failed", connection=run.plan.connection, target=run.plan.name, run=run.pk, error="worker lost")
        alerts.backup_failed(BackupRun.objects.get(pk=run.pk))
        reaped.append(run.pk)
    from backups.restore_tests import reap_tests

    reaped += reap_tests(cutoff, now)
    return reaped


def cancel(run: BackupRun, user: Any) -> None:
    """Ask the worker to stop (it kills the dump and aborts the upload); a queued run is cancelled at once."""
    BackupRun.objects.filter(pk=run.pk, status__in=[RunStatus.QUEUED, RunStatus.RUNNING]).update(cancel_requested=True)
    BackupRun.objects.filter(pk=run.pk, status=RunStatus.QUEUED).update(
        status=RunStatus.CANCELLED, finished_at=timezone.now(), error=f"Cancelled by {user.username} before it started."
    )
    record("backup.cancel", actor=user, connection=run.plan.connection, target=run.plan.name, run=run.pk)


def queue(plan: BackupPlan, *, user: Any = None, scheduled_for: dt.datetime | None = None) -> BackupRun | None:
    """A new queued run (None when that schedule slot already has one: the idempotent claim)."""
    from django.db import IntegrityError, transaction

    try:
        with transaction.atomic():
            run = BackupRun.objects.create(
                plan=plan,
                started_by=user,
                trigger="schedule" if scheduled_for else "manual",
                scheduled_for=scheduled_for,
            )
    except IntegrityError:
        return None
    from backups.tasks import run_backup

    transaction.on_commit(lambda: run_backup.delay(run.pk))
    return run
