"""Backups: plans, runs (trigger, status, cancel), artifacts and restore-tests.

Thin over the backups app: `backups.runner.queue` / `cancel` and `backups.restore_tests.queue`
are what the plan page's buttons call. A plan's access is its connection's (viewer to read,
editor to run and restore-test); a plan on a connection you may not see answers "No such plan."
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from accounts.access import NotFound
from accounts.models import Role
from api import access, cursors
from api.problems import Conflict
from api.responses import ID, answers, needs
from api.schemas import Out
from audit.record import record
from backups import restore_tests, runner
from backups.badge import badges_for
from backups.models import ACTIVE, Artifact, BackupPlan, BackupRun, RestoreTest
from connections.access import Access

router = Router(tags=["backups"])


class BackupBadgeOut(Out):
    state: str
    label: str
    last_backup: dt.datetime | None
    last_verified: dt.datetime | None
    rto_seconds: float | None
    reason: str


class BackupPlanOut(Out):
    id: int
    name: str
    connection: int
    connection_name: str
    cron: str
    timezone: str
    destination: str
    encrypt: bool
    enabled: bool
    restore_test_cron: str
    badge: BackupBadgeOut | None


class BackupPlanList(Out):
    items: list[BackupPlanOut]
    next_cursor: str | None


class BackupJobOut(Out):
    id: int
    plan: int
    status: str
    trigger: str
    started_by: str
    phase: str
    error: str
    percent: int | None = None
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None


class BackupRunOut(BackupJobOut):
    bytes_read: int
    bytes_written: int
    estimated_bytes: int | None
    artifact: int | None


class RestoreCheckOut(Out):
    name: str
    ok: bool
    detail: str


class RestoreTestOut(BackupJobOut):
    artifact: int
    sandbox: str
    checks: list[RestoreCheckOut]
    rto_seconds: float | None


class BackupArtifactOut(Out):
    id: int
    run: int
    location: str
    size: int
    created_at: dt.datetime
    deleted_at: dt.datetime | None


class BackupArtifactList(Out):
    items: list[BackupArtifactOut]
    next_cursor: str | None


class Paging(Schema):
    cursor: str = Field("", description="next_cursor of the previous page.")
    limit: int = Field(50, ge=1, le=200)


def _plan(request: HttpRequest, pk: int, need: Role = Role.VIEWER) -> tuple[BackupPlan, Access]:
    plan = BackupPlan.objects.select_related("connection", "destination").filter(pk=pk).first()
    if plan is None:
        raise NotFound("No such plan.")
    try:
        read = access.connection_for(request, plan.connection_id, need=need)
    except NotFound:
        raise NotFound("No such plan.") from None
    return plan, read


def _plan_out(plan: BackupPlan, badge: Any) -> dict[str, Any]:
    return {
        "id": plan.pk,
        "name": plan.name,
        "connection": plan.connection_id,
        "connection_name": plan.connection.name,
        "cron": plan.cron,
        "timezone": plan.timezone,
        "destination": plan.destination.name,
        "encrypt": plan.encrypt,
        "enabled": plan.enabled,
        "restore_test_cron": plan.restore_test_cron,
        "badge": None
        if badge is None
        else {
            "state": badge.state,
            "label": badge.label,
            "last_backup": badge.last_backup,
            "last_verified": badge.last_verified,
            "rto_seconds": badge.rto_seconds,
            "reason": badge.reason,
        },
    }


def _job(job: BackupRun | RestoreTest) -> dict[str, Any]:
    return {
        "id": job.pk,
        "plan": job.plan_id,
        "status": job.status,
        "trigger": job.trigger,
        "started_by": job.started_by_text,
        "phase": job.phase,
        "error": job.error,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
    }


def _run_out(run: BackupRun) -> dict[str, Any]:
    artifact = Artifact.objects.filter(run=run).values_list("pk", flat=True).first()
    return {
        **_job(run),
        "percent": run.percent,
        "bytes_read": run.bytes_read,
        "bytes_written": run.bytes_written,
        "estimated_bytes": run.estimated_bytes,
        "artifact": artifact,
    }


def _test_out(test: RestoreTest) -> dict[str, Any]:
    checks = [
        {"name": str(c.get("name", "")), "ok": bool(c.get("ok")), "detail": str(c.get("detail", ""))}
        for c in (test.checks or [])
        if isinstance(c, dict)
    ]
    return {
        **_job(test),
        "artifact": test.artifact_id,
        "sandbox": test.sandbox,
        "checks": checks,
        "rto_seconds": test.rto_seconds,
    }


@router.get("/plans", response=answers(BackupPlanList), openapi_extra=needs(Role.VIEWER))
def plan_list(request: HttpRequest, paging: Query[Paging]) -> dict[str, Any]:
    """Plans on the connections you may see, by id, with each connection's verified / unverified badge."""
    ids = [a.connection.pk for a in access.visible_connections(request)]
    plans = BackupPlan.objects.filter(connection_id__in=ids).select_related("connection", "destination").order_by("id")
    after = cursors.read_id(paging.cursor)
    page = list(plans.filter(id__gt=after)[: paging.limit + 1])
    more = len(page) > paging.limit
    page = page[: paging.limit]
    badges = badges_for(sorted({p.connection_id for p in page}))
    return {
        "items": [_plan_out(p, badges.get(p.connection_id)) for p in page],
        "next_cursor": cursors.make_id(page[-1].pk) if more else None,
    }


@router.get("/plans/{id:pk}", response=answers(BackupPlanOut), openapi_extra=needs(Role.VIEWER))
def plan_detail(request: HttpRequest, pk: ID) -> dict[str, Any]:
    plan, _ = _plan(request, pk)
    return _plan_out(plan, badges_for([plan.connection_id]).get(plan.connection_id))


@router.post(
    "/plans/{id:pk}/runs", response=answers(BackupRunOut, status=202, extra=(409,)), openapi_extra=needs(Role.EDITOR)
)
def run_start(request: HttpRequest, pk: ID) -> Any:
    """Back up now; a run already queued or running is returned instead of starting a second one."""
    plan, _ = _plan(request, pk, Role.EDITOR)
    active = BackupRun.objects.filter(plan=plan, status__in=ACTIVE).first()
    if active is not None:
        return Status(202, _run_out(active))
    run = runner.queue(plan, user=request.user)
    record(
        "backup.queue",
        request=request,
        connection=plan.connection,
        target=plan.name,
        run=run.pk if run else None,
        **access.via(request),
    )
    if run is None:
        raise Conflict("A run for this plan was queued at the same moment; list the plan's runs.")
    return Status(202, _run_out(run))


def _run(request: HttpRequest, pk: int, need: Role = Role.VIEWER) -> BackupRun:
    run = BackupRun.objects.select_related("plan__connection", "started_by").filter(pk=pk).first()
    if run is None:
        raise NotFound("No such run.")
    try:
        access.connection_for(request, run.plan.connection_id, need=need)
    except NotFound:
        raise NotFound("No such run.") from None
    return run


@router.get("/runs/{id:pk}", response=answers(BackupRunOut), openapi_extra=needs(Role.VIEWER))
def run_status(request: HttpRequest, pk: ID) -> dict[str, Any]:
    """Poll until the status is succeeded, failed or cancelled."""
    return _run_out(_run(request, pk))


@router.post("/runs/{id:pk}/cancel", response=answers(BackupRunOut), openapi_extra=needs(Role.EDITOR))
def run_cancel(request: HttpRequest, pk: ID) -> dict[str, Any]:
    run = _run(request, pk, Role.EDITOR)
    runner.cancel(run, request.user)
    run.refresh_from_db()
    return _run_out(run)


@router.get("/plans/{id:pk}/artifacts", response=answers(BackupArtifactList), openapi_extra=needs(Role.VIEWER))
def artifact_list(request: HttpRequest, pk: ID, paging: Query[Paging]) -> dict[str, Any]:
    """The plan's artifacts (kept and deleted by retention), newest first."""
    plan, _ = _plan(request, pk)
    found = Artifact.objects.filter(plan=plan).order_by("-id")
    before = cursors.read_id(paging.cursor)
    if before:
        found = found.filter(id__lt=before)
    page = list(found[: paging.limit + 1])
    more = len(page) > paging.limit
    page = page[: paging.limit]
    items = [
        {
            "id": a.pk,
            "run": a.run_id,
            "location": a.location,
            "size": a.size,
            "created_at": a.created_at,
            "deleted_at": a.deleted_at,
        }
        for a in page
    ]
    return {"items": items, "next_cursor": cursors.make_id(page[-1].pk) if more else None}


@router.post(
    "/plans/{id:pk}/restore-tests",
    response=answers(RestoreTestOut, status=202, extra=(409,)),
    openapi_extra=needs(Role.EDITOR),
)
def restore_test_start(request: HttpRequest, pk: ID) -> Any:
    """Restore the newest artifact into a scratch database and check it; poll the test for the result."""
    plan, _ = _plan(request, pk, Role.EDITOR)
    test = restore_tests.queue(plan, user=request.user)
    if test is None:
        raise Conflict(f"{plan.name} has no backup to test yet; run a backup first.")
    record(
        "backup.restore_test_queue",
        request=request,
        connection=plan.connection,
        target=plan.name,
        test=test.pk,
        **access.via(request),
    )
    return Status(202, _test_out(test))


@router.get("/restore-tests/{id:pk}", response=answers(RestoreTestOut), openapi_extra=needs(Role.VIEWER))
def restore_test_status(request: HttpRequest, pk: ID) -> dict[str, Any]:
    test = RestoreTest.objects.select_related("plan__connection", "started_by").filter(pk=pk).first()
    if test is None:
        raise NotFound("No such restore-test.")
    try:
        access.connection_for(request, test.plan.connection_id)
    except NotFound:
        raise NotFound("No such restore-test.") from None
    return _test_out(test)
