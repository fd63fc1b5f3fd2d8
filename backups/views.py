"""Backup pages: plans (admins), runs and restore-tests (editors), live progress, manual restore (admins).

Every view finds the plan's connection through the permission helper first, so another
team's plan, run or artifact answers 404 and a role too low answers 403.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseStopPolling

from accounts.access import Forbidden
from accounts.models import Role, Team
from audit.record import record
from backups import restore_tests, runner, schedule
from backups.badge import badges_for
from backups.forms import ConfirmForm, DestinationForm, PlanForm, save_plan
from backups.models import ACTIVE, STORE_ENGINES, Artifact, BackupPlan, BackupRun, Destination, RestoreTest
from connections.access import Access, connections_for, get_connection_for
from connections.models import Connection


def _plan_for(request: HttpRequest, pk: int, need: Role = Role.VIEWER) -> tuple[BackupPlan, Access]:
    plan = BackupPlan.objects.select_related("connection", "destination").filter(pk=pk).first()
    if plan is None:
        raise Http404("No such plan.")
    access = get_connection_for(request.user, plan.connection_id, need=need)
    return plan, access


def _admin_connections(request: HttpRequest) -> Any:
    ids = [a.connection.pk for a in connections_for(request.user) if a.role.allows(Role.ADMIN)]
    return Connection.objects.filter(pk__in=ids)


@login_required
def index(request: HttpRequest) -> HttpResponse:
    accesses = connections_for(request.user)
    ids = [a.connection.pk for a in accesses]
    plans = BackupPlan.objects.filter(connection_id__in=ids).select_related("connection", "destination")
    badges = badges_for(ids)
    ctx = {
        "plans": [(p, badges.get(p.connection_id)) for p in plans],
        "can_plan": any(a.role.allows(Role.ADMIN) for a in accesses),
        "destinations": Destination.objects.filter(team_id__in={a.connection.team_id for a in accesses}),
    }
    return render(request, "backups/index.html", ctx)


@login_required
@require_http_methods(["GET", "POST"])
def plan_form(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    plan = None
    if pk is not None:
        plan, _ = _plan_for(request, pk, Role.ADMIN)
    connections = _admin_connections(request)
    if not connections.exists():
        raise Forbidden("Backup plans need the admin role on a connection.")
    destinations = Destination.objects.filter(team_id__in=connections.values("team_id"))
    form = PlanForm(
        request.POST if request.method == "POST" else None,
        instance=plan,
        connections=connections,
        destinations=destinations,
        initial={"connection": request.GET.get("connection")} if plan is None else None,
    )
    if request.method == "POST" and form.is_valid():
        get_connection_for(request.user, form.cleaned_data["connection"].pk, need=Role.ADMIN)
        return redirect(save_plan(form, plan, request))
    return render(request, "backups/plan_form.html", {"form": form, "plan": plan}, status=400 if form.errors else 200)


@login_required
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    plan, access = _plan_for(request, pk)
    try:
        upcoming = schedule.next_times(plan.cron, plan.timezone, timezone.now())
    except schedule.ScheduleError as exc:
        upcoming, schedule_error = [], str(exc)
    else:
        schedule_error = ""
    ctx = {
        "plan": plan,
        "connection": plan.connection,
        "upcoming": upcoming,
        "schedule_error": schedule_error,
        "runs": plan.runs.select_related("started_by")[:20],
        "artifacts": plan.artifacts.filter(deleted_at__isnull=True)[:20],
        "tests": plan.restore_tests.select_related("started_by")[:10],
        "badge": badges_for([plan.connection_id]).get(plan.connection_id),
        "can_run": access.role.allows(Role.EDITOR),
        "is_admin": access.role.allows(Role.ADMIN),
    }
    return render(request, "backups/plan.html", ctx)


@login_required
@require_POST
def run_now(request: HttpRequest, pk: int) -> HttpResponse:
    plan, _ = _plan_for(request, pk, Role.EDITOR)
    if BackupRun.objects.filter(plan=plan, status__in=ACTIVE).exists():
        active = BackupRun.objects.filter(plan=plan, status__in=ACTIVE).first()
        return redirect(active)
    run = runner.queue(plan, user=request.user)
    record("backup.queue", request=request, connection=plan.connection, target=plan.name, run=run.pk if run else None)
    return redirect(run) if run else redirect(plan)


@login_required
@require_POST
def restore_test_now(request: HttpRequest, pk: int) -> HttpResponse:
    plan, _ = _plan_for(request, pk, Role.EDITOR)
    test = restore_tests.queue(plan, user=request.user)
    if test is None:
        return redirect(plan)
    record("backup.restore_test_queue", request=request, connection=plan.connection, target=plan.name, test=test.pk)
    return redirect(test)


def _progress(request: HttpRequest, template: str, ctx: dict[str, Any], done: bool) -> HttpResponse:
    if request.htmx:
        response = render(request, template + "#progress", ctx)
        if done:
            stop = HttpResponseStopPolling()
            stop.content = response.content
            return stop
        return response
    return render(request, template, ctx)


@login_required
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(BackupRun.objects.select_related("plan__connection", "started_by"), pk=pk)
    access = get_connection_for(request.user, run.plan.connection_id)
    artifact = Artifact.objects.filter(run=run).first()
    ctx = {"run": run, "plan": run.plan, "artifact": artifact, "can_run": access.role.allows(Role.EDITOR)}
    return _progress(request, "backups/run.html", ctx, not run.active)


@login_required
@require_POST
def run_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(BackupRun.objects.select_related("plan__connection"), pk=pk)
    get_connection_for(request.user, run.plan.connection_id, need=Role.EDITOR)
    runner.cancel(run, request.user)
    return redirect(run)


@login_required
def restore_test_detail(request: HttpRequest, pk: int) -> HttpResponse:
    test = get_object_or_404(RestoreTest.objects.select_related("plan__connection", "artifact"), pk=pk)
    get_connection_for(request.user, test.plan.connection_id)
    return _progress(request, "backups/restore_test.html", {"test": test, "plan": test.plan}, not test.active)


@login_required
@require_http_methods(["GET", "POST"])
def destination_form(request: HttpRequest) -> HttpResponse:
    admin_conns = _admin_connections(request)
    teams = Team.objects.filter(pk__in=admin_conns.values("team_id"))
    if not teams.exists():
        raise Forbidden("Destinations need the admin role on a connection of the team.")
    s3 = admin_conns.filter(engine__in=sorted(set(STORE_ENGINES.values())))
    form = DestinationForm(request.POST if request.method == "POST" else None, teams=teams, s3_connections=s3)
    if request.method == "POST" and form.is_valid():
        destination = form.save()
        record("backup.destination_create", request=request, team=destination.team, target=destination.name)
        return redirect("backups:index")
    return render(request, "backups/destination_form.html", {"form": form}, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def artifact_restore(request: HttpRequest, pk: int) -> HttpResponse:
    """Manual restore: admins only, a dry-run listing, a typed confirmation (two on production), audited."""
    artifact = get_object_or_404(Artifact.objects.select_related("plan__connection", "destination"), pk=pk)
    get_connection_for(request.user, artifact.plan.connection_id, need=Role.ADMIN)
    targets = [
        a.connection
        for a in connections_for(request.user)
        if a.role.allows(Role.ADMIN) and a.connection.engine == artifact.manifest.get("engine")
    ]
    target_pk = request.POST.get("target") or request.GET.get("target")
    target = next((c for c in targets if str(c.pk) == str(target_pk)), None)
    listing: list[dict[str, Any]] = []
    error = ""
    if target is not None:
        get_connection_for(request.user, target.pk, need=Role.ADMIN)
        from backups.manual import dry_run

        try:
            listing = dry_run(artifact, target)
        except Exception as exc:  # the target is down: say so, restore nothing
            error = str(exc)
    form = ConfirmForm(
        request.POST if request.method == "POST" else None,
        expected=target.name if target else "",
        production=bool(target and target.production),
    )
    if request.method == "POST" and target is not None and not error and form.is_valid():
        from backups.manual import queue_restore

        test = queue_restore(artifact, target, request.user)
        record(
            "backup.restore",
            request=request,
            connection=target,
            target=artifact.manifest_url,
            artifact=artifact.pk,
            production=target.production,
            job=test,
        )
        return redirect(artifact.plan)
    ctx = {"artifact": artifact, "targets": targets, "target": target, "listing": listing, "form": form, "error": error}
    return render(request, "backups/restore.html", ctx, status=400 if form.errors and request.method == "POST" else 200)
