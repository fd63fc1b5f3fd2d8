"""Backups: plans, runs (trigger, status, cancel), artifacts and restore-tests.

Thin over the backups app: `backups.runner.queue` / `cancel` and `backups.restore_tests.queue`
are what the plan page's buttons call. A plan's access is its connection's (viewer to read,
editor to run and restore-test); a plan on a connection you may not see answers "No such plan."
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema, Status

from accounts.access import NotFound
from accounts.models import Role
from api import access, cursors
from api.problems import Conflict, form_errors
from api.responses import ID, answers, needs
from api.schemas import Out
from audit.record import record
from backups import restore_tests, runner
from backups.badge import badges_for
from backups.forms import PlanForm, save_plan
from backups.models import ACTIVE, Artifact, BackupPlan, BackupRun, Destination, RestoreTest
from connections.access import Access
from connections.models import Connection
from explorer.forms import ConfirmedForm

router = Router(tags=["backups"])


class BackupBadgeOut(Out):
    state: str
    label: str
    last_backup: dt.datetime | None
    last_verified: dt.datetime | None
    rto_seconds: float | None
    reason: str


class VerifyQuery(Schema):
    query: str = Field(max_length=10_000, description="A read-only query; its first value is compared.")
    expected: str = Field(max_length=500)


class VerifyQueryOut(Out):
    query: str
    expected: str


class BackupPlanOut(Out):
    id: int
    name: str
    connection: int
    connection_name: str
    cron: str
    timezone: str
    destination: str = Field(description="The destination's name; destination_id is its id.")
    destination_id: int
    compression_level: int
    encrypt: bool
    enabled: bool
    keep_last: int
    keep_daily: int
    keep_weekly: int
    keep_monthly: int
    restore_test_cron: str
    sandbox: int | None
    restore_window_hours: int
    alert_emails: str
    has_webhook: bool = Field(description="Whether an alert webhook is set; its address is write-only.")
    namespaces: list[str]
    objects: list[str]
    patterns: list[str]
    verify: list[VerifyQueryOut]
    badge: BackupBadgeOut | None


DB_ID = Field(ge=0, le=2**63 - 1)
LINES = Field(default_factory=list, max_length=1000, description="Empty: the whole database.")


class BackupPlanIn(Schema):
    """A new plan, validated by the plan page's form (schedule, time zone, destination of the same team ...)."""

    connection: int = DB_ID
    name: str = Field(max_length=100)
    destination: int = DB_ID
    cron: str = Field("0 3 * * *", description="minute hour day month weekday, e.g. 0 3 * * *")
    timezone: str = "UTC"
    compression_level: int = Field(3, description="zstd level, 1 to 19.")
    encrypt: bool = True
    keep_last: int = 7
    keep_daily: int = 7
    keep_weekly: int = 4
    keep_monthly: int = 6
    restore_test_cron: str = Field("30 4 * * 0", description="Empty: restore-test only by hand.")
    sandbox: int | None = Field(None, ge=0, le=2**63 - 1, description="A non-production connection to restore into.")
    restore_window_hours: int = 8 * 24
    alert_emails: str = Field("", description="Comma-separated.")
    alert_webhook: str = Field("", description="A Slack-compatible JSON webhook; write-only.")
    enabled: bool = True
    namespaces: list[str] = LINES
    objects: list[str] = Field(default_factory=list, max_length=1000, description="Tables or collections as ns.name.")
    patterns: list[str] = Field(default_factory=list, max_length=1000, description="Redis key patterns, S3 prefixes.")
    verify: list[VerifyQuery] = Field(default_factory=list, max_length=100)


class BackupPlanPatch(Schema):
    """Fields to change; absent fields keep their value."""

    connection: int | None = Field(None, ge=0, le=2**63 - 1)
    name: str | None = Field(None, max_length=100)
    destination: int | None = Field(None, ge=0, le=2**63 - 1)
    cron: str | None = None
    timezone: str | None = None
    compression_level: int | None = None
    encrypt: bool | None = None
    keep_last: int | None = None
    keep_daily: int | None = None
    keep_weekly: int | None = None
    keep_monthly: int | None = None
    restore_test_cron: str | None = None
    sandbox: int | None = Field(None, ge=0, le=2**63 - 1, description="null: restore-test on a private server.")
    restore_window_hours: int | None = None
    alert_emails: str | None = None
    alert_webhook: str | None = Field(None, description="Write-only.")
    enabled: bool | None = None
    namespaces: list[str] | None = Field(None, max_length=1000)
    objects: list[str] | None = Field(None, max_length=1000)
    patterns: list[str] | None = Field(None, max_length=1000)
    verify: list[VerifyQuery] | None = Field(None, max_length=100)


class Confirm(Schema):
    confirm: str = Field("", max_length=1000, description="A production connection's name, typed to confirm.")


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


class BackupRunList(Out):
    items: list[BackupRunOut]
    next_cursor: str | None


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
    scope = plan.scope if isinstance(plan.scope, dict) else {}
    return {
        "id": plan.pk,
        "name": plan.name,
        "connection": plan.connection_id,
        "connection_name": plan.connection.name,
        "cron": plan.cron,
        "timezone": plan.timezone,
        "destination": plan.destination.name,
        "destination_id": plan.destination_id,
        "compression_level": plan.compression_level,
        "encrypt": plan.encrypt,
        "enabled": plan.enabled,
        "keep_last": plan.keep_last,
        "keep_daily": plan.keep_daily,
        "keep_weekly": plan.keep_weekly,
        "keep_monthly": plan.keep_monthly,
        "restore_test_cron": plan.restore_test_cron,
        "sandbox": plan.sandbox_id,
        "restore_window_hours": plan.restore_window_hours,
        "alert_emails": plan.alert_emails,
        "has_webhook": bool(plan.alert_webhook),
        **{key: [str(v) for v in scope.get(key, [])] for key in ("namespaces", "objects", "patterns")},
        "verify": [
            {"query": str(q.get("query", "")), "expected": str(q.get("expected", ""))}
            for q in plan.verify_queries or []
            if isinstance(q, dict)
        ],
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


def _run_out(run: BackupRun, artifacts: dict[int, int] | None = None) -> dict[str, Any]:
    if artifacts is None:
        artifact = Artifact.objects.filter(run=run).values_list("pk", flat=True).first()
    else:
        artifact = artifacts.get(run.pk)
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


def _plan_fields(plan: BackupPlan) -> dict[str, Any]:
    """A plan's editable fields as the API takes them, so a PATCH changes only what it names."""
    out = _plan_out(plan, None)
    fields = {k: out[k] for k in BackupPlanIn.model_fields if k in out and k not in ("destination", "verify")}
    return {
        **fields,
        "destination": plan.destination_id,
        "alert_webhook": plan.alert_webhook,
        "verify": out["verify"],
    }


def _form_data(fields: dict[str, Any]) -> dict[str, Any] | HttpResponse:
    """The API's fields as the plan form's POST data: lists as its one-a-line text, ids for choices."""
    errors: dict[str, list[str]] = {}
    for key in ("namespaces", "objects", "patterns"):
        if any("\n" in v or "\r" in v for v in fields[key]):
            errors[key] = ["A value may not contain a line break."]
    verify = []
    for q in fields["verify"]:
        query, expected = str(q["query"]), str(q["expected"])
        if any(c in query + expected for c in "\r\n") or "=>" in expected:
            errors["verify"] = ["A verification query or value may not contain a line break, nor the value =>."]
        verify.append(f"{query} => {expected}")
    if errors:
        return form_errors(errors)
    data = {k: v for k, v in fields.items() if k not in ("namespaces", "objects", "patterns", "verify")}
    data["sandbox"] = "" if fields["sandbox"] is None else fields["sandbox"]
    for key in ("namespaces", "objects", "patterns"):
        data[key] = "\n".join(fields[key])
    data["verify"] = "\n".join(verify)
    return data


def _save_plan(request: HttpRequest, plan: BackupPlan | None, fields: dict[str, Any]) -> Any:
    """Validate through the plan page's form and save as the page does, audited by the page's names."""
    data = _form_data(fields)
    if isinstance(data, HttpResponse):
        return data
    ids = [a.connection.pk for a in access.visible_connections(request) if a.role.allows(Role.ADMIN)]
    connections = Connection.objects.filter(pk__in=ids)
    destinations = Destination.objects.filter(team_id__in=connections.values("team_id"))
    form = PlanForm(data, instance=plan, connections=connections, destinations=destinations)
    if not form.is_valid():
        return form_errors(form.errors)
    saved = save_plan(form, plan, request, **access.via(request))
    saved = BackupPlan.objects.select_related("connection", "destination").get(pk=saved.pk)
    return _plan_out(saved, badges_for([saved.connection_id]).get(saved.connection_id))


@router.post("/plans", response=answers(BackupPlanOut, status=201), openapi_extra=needs(Role.ADMIN))
def plan_create(request: HttpRequest, body: BackupPlanIn) -> Any:
    """Add a plan to a connection you administer; the destination must be one of its team's."""
    access.connection_for(request, body.connection, need=Role.ADMIN)
    saved = _save_plan(request, None, body.dict())
    return saved if isinstance(saved, HttpResponse) else Status(201, saved)


@router.patch("/plans/{id:pk}", response=answers(BackupPlanOut), openapi_extra=needs(Role.ADMIN))
def plan_update(request: HttpRequest, pk: ID, body: BackupPlanPatch) -> Any:
    """Change some of a plan's fields; absent fields keep their value."""
    plan, _ = _plan(request, pk, Role.ADMIN)
    given = body.dict(exclude_unset=True)
    if given.get("connection") is not None:
        access.connection_for(request, given["connection"], need=Role.ADMIN)
    fields = _plan_fields(plan)
    fields.update({k: v for k, v in given.items() if v is not None or k == "sandbox"})
    return _save_plan(request, plan, fields)


@router.delete("/plans/{id:pk}", response=answers(None, status=204, extra=(409,)), openapi_extra=needs(Role.ADMIN))
def plan_delete(request: HttpRequest, pk: ID, confirm: Query[Confirm]) -> Any:
    """Delete a plan with its run history (artifacts already written stay where they are)."""
    plan, _ = _plan(request, pk, Role.ADMIN)
    form = ConfirmedForm({"confirm": confirm.confirm}, connection=plan.connection)
    if not form.is_valid():
        return form_errors(form.errors)
    if BackupRun.objects.filter(plan=plan, status__in=ACTIVE).exists():
        raise Conflict(f"{plan.name} has a run queued or running; cancel it or wait, then delete the plan.")
    record(
        "backup.plan_delete",
        request=request,
        connection=plan.connection,
        target=plan.name,
        destination=plan.destination.name,
        **access.via(request),
    )
    plan.delete()
    return Status(204, None)


@router.get("/plans/{id:pk}/runs", response=answers(BackupRunList), openapi_extra=needs(Role.VIEWER))
def run_list(request: HttpRequest, pk: ID, paging: Query[Paging]) -> dict[str, Any]:
    """The plan's runs, newest first."""
    plan, _ = _plan(request, pk)
    found = BackupRun.objects.filter(plan=plan).select_related("started_by").order_by("-id")
    before = cursors.read_id(paging.cursor)
    if before:
        found = found.filter(id__lt=before)
    page = list(found[: paging.limit + 1])
    more = len(page) > paging.limit
    page = page[: paging.limit]
    artifacts = dict(Artifact.objects.filter(run__in=page).values_list("run_id", "pk"))
    return {
        "items": [_run_out(r, artifacts) for r in page],
        "next_cursor": cursors.make_id(page[-1].pk) if more else None,
    }


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
