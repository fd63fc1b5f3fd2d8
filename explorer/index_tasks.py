"""Background index builds and drops: claimed once, progress written as the engine reports it, audited."""

from __future__ import annotations

import logging
import time
from typing import Any

from celery import shared_task
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.access import AccessDenied
from accounts.models import Role
from audit.record import record
from connections.access import get_connection_for
from connections.engines import EngineError
from connections.engines.capabilities import IndexTools
from connections.models import Connection
from explorer.models import ExportStatus, IndexJob, IndexJobAction

log = logging.getLogger(__name__)
PROGRESS_EVERY_S = 0.5


def queue(
    request: HttpRequest, connection: Connection, *, via: dict[str, Any] | None = None, **fields: Any
) -> IndexJob:
    """Save a build or drop job, audit it as queued, and start the worker once the transaction commits.

    The index page and the API both queue through here; `via` adds the API's note to the audit event.
    """
    job = IndexJob.objects.create(connection=connection, user=request.user, **fields)
    record(
        f"index.{job.action}.queued",
        request=request,
        connection=connection,
        target=f"{job.namespace}.{job.obj}",
        columns=job.columns,
        index=job.index_name,
        **(via or {}),
    )
    transaction.on_commit(lambda: run_index_job.delay(job.pk))
    return job


@shared_task(acks_late=True, time_limit=6 * 3600 + 120, soft_time_limit=6 * 3600 + 60)
def run_index_job(job_id: int) -> str:
    # Claim with a conditional UPDATE so a redelivered task never builds twice.
    if not IndexJob.objects.filter(pk=job_id, status=ExportStatus.QUEUED).update(status=ExportStatus.RUNNING):
        return "skipped"
    job = IndexJob.objects.select_related("connection", "user").get(pk=job_id)
    target = f"{job.namespace}.{job.obj}"
    try:
        # Re-checked now: an editor demoted or removed since queueing builds nothing.
        connection, _role = get_connection_for(job.user, job.connection_id, need=Role.EDITOR)
    except AccessDenied as exc:
        message = f"Access changed: {job.user.get_username()} may no longer change indexes here ({exc.message})."
        IndexJob.objects.filter(pk=job_id).update(
            status=ExportStatus.FAILED, error=message[:500], finished_at=timezone.now()
        )
        record("index.denied", actor=job.user, connection=job.connection, target=target, action=job.action)
        return "access removed"
    try:
        with connection.adapter(read_only=False) as adapter:
            tools = adapter.get(IndexTools)
            if tools is None:
                raise EngineError(f"{adapter.display_name} has no index tools.", kind="config")
            if job.action == IndexJobAction.CREATE:
                steps = tools.create(job.namespace, job.obj, tuple(job.columns), unique=job.unique)
            else:
                steps = tools.drop(job.namespace, job.obj, job.index_name)
            last = 0.0
            for step in steps:
                if time.monotonic() - last > PROGRESS_EVERY_S or step.phase == "done":
                    last = time.monotonic()
                    IndexJob.objects.filter(pk=job_id).update(phase=step.phase[:200], done=step.done, total=step.total)
        IndexJob.objects.filter(pk=job_id).update(status=ExportStatus.DONE, phase="done", finished_at=timezone.now())
        record(
            f"index.{job.action}",
            actor=job.user,
            connection=connection,
            target=target,
            columns=job.columns,
            unique=job.unique,
            index=job.index_name,
        )
        return "done"
    except EngineError as exc:
        message = exc.message
    except Exception:
        log.exception("index job %s failed", job_id)
        message = "The index job failed unexpectedly; the worker log has details."
    IndexJob.objects.filter(pk=job_id).update(
        status=ExportStatus.FAILED, error=message[:500], finished_at=timezone.now()
    )
    record(
        f"index.{job.action}.failed",
        actor=job.user,
        connection=job.connection,
        target=target,
        columns=job.columns,
        index=job.index_name,
        error=message,
    )
    return "failed"
