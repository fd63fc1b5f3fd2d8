"""Index pages: a table's indexes, findings across a namespace, what-if advice, build and drop jobs, partitions."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling

from accounts.models import Role
from audit.record import record
from connections.access import Access
from connections.engines import EngineError
from connections.engines.browse import TableBrowsing
from connections.engines.capabilities import IndexTools
from connections.engines.partitions import Partitioning
from explorer import index_tasks
from explorer.models import IndexJob, IndexJobAction, SavedPlan
from explorer.plan_forms import AdviceForm, CreateIndexForm, DropIndexForm, TableForm
from explorer.plans import recommended
from explorer.views.common import engine, explorer_view, require

FINDING_ORDER = {"invalid": 0, "duplicate": 1, "prefix": 2, "unused": 3, "missing": 4}


@login_required
@require_GET
@explorer_view()
def index_list(request: HttpRequest, access: Access) -> HttpResponse:
    connection = access.connection
    form = TableForm(request.GET).valid()
    ns, obj = form.cleaned_data["ns"], form.cleaned_data["obj"]
    with engine(access) as adapter:
        tools = require(adapter, IndexTools)
        if not obj:
            raise EngineError("Choose a table or collection to see its indexes.", kind="config")
        indexes = tools.list_indexes(ns, obj)
        browsing = adapter.get(TableBrowsing)
        columns = [c.name for c in browsing.describe(ns, obj).columns] if browsing else []
        free_columns = bool(browsing and browsing.documents)  # documents: fields are typed, not chosen
        notice = getattr(tools, "notice", "")
    ctx = {
        "connection": connection,
        "ns": ns,
        "obj": obj,
        "indexes": indexes,
        "columns": columns,
        "free_columns": free_columns,
        "notice": notice,
        "can_write": access.can_write,
        "online": tools.online,
        "jobs": IndexJob.objects.filter(connection=connection, namespace=ns, obj=obj)[:10],
    }
    return render(request, "explorer/indexes.html", ctx)


@login_required
@require_GET
@explorer_view()
def index_findings(request: HttpRequest, access: Access) -> HttpResponse:
    connection = access.connection
    ns = TableForm(request.GET).valid().cleaned_data["ns"]
    with engine(access) as adapter:
        tools = require(adapter, IndexTools)
        findings = sorted(tools.findings(ns), key=lambda f: (FINDING_ORDER.get(f.kind, 9), f.table, f.index))
        notice = getattr(tools, "notice", "")
    record("index.findings", request=request, connection=connection, target=ns, findings=len(findings))
    ctx = {
        "connection": connection,
        "ns": ns,
        "findings": findings,
        "notice": notice,
        "space": sum(f.size_bytes or 0 for f in findings if f.kind != "missing"),
    }
    return render(request, "explorer/indexes_findings.html", ctx)


@login_required
@require_GET
@explorer_view()
def index_advice(request: HttpRequest, access: Access) -> HttpResponse:
    """Candidate indexes for ?statement=: measured with HypoPG where the engine can, else labelled heuristics."""
    connection = access.connection
    form = AdviceForm(request.GET).valid()
    statement = form.cleaned_data["statement"]
    if form.cleaned_data["plan"] and not statement:
        statement = get_object_or_404(SavedPlan, connection=connection, token=form.cleaned_data["plan"]).statement
    ctx: dict[str, Any] = {"connection": connection, "statement": statement, "can_write": access.can_write}
    if statement:
        with engine(access) as adapter:
            tools = require(adapter, IndexTools)
            try:
                suggestions = tools.suggest(statement)
            except EngineError as exc:
                ctx["error"] = exc.message
                suggestions = []
            ctx["notice"] = getattr(tools, "notice", "") if tools.hypothetical or suggestions else ""
            ctx["hypothetical"] = tools.hypothetical
        record(
            "query.advice",
            request=request,
            connection=connection,
            statement=statement,
            suggestions=len(suggestions),
            outcome="error" if "error" in ctx else "ok",
        )
        ctx["recommended"] = [s for s in suggestions if recommended(s)]
        ctx["others"] = [s for s in suggestions if not recommended(s)]
    return render(request, "explorer/indexes_advice.html", ctx, status=400 if "error" in ctx else 200)


def _queue(request: HttpRequest, access: Access, **fields: Any) -> HttpResponse:
    return redirect(index_tasks.queue(request, access.connection, **fields))


@login_required
@require_POST
@explorer_view(need=Role.EDITOR)
def index_create(request: HttpRequest, access: Access) -> HttpResponse:
    form = CreateIndexForm(request.POST, connection=access.connection).valid()
    data = form.cleaned_data
    with engine(access) as adapter:
        require(adapter, IndexTools)
    return _queue(
        request,
        access,
        action=IndexJobAction.CREATE,
        namespace=data["ns"],
        obj=data["obj"],
        columns=data["col"],
        unique=bool(data["unique"]),
    )


@login_required
@require_POST
@explorer_view(need=Role.EDITOR)
def index_drop(request: HttpRequest, access: Access) -> HttpResponse:
    form = DropIndexForm(request.POST, connection=access.connection).valid()
    data = form.cleaned_data
    return _queue(
        request, access, action=IndexJobAction.DROP, namespace=data["ns"], obj=data["obj"], index_name=data["name"]
    )


@login_required
@require_GET
@explorer_view()
def index_job(request: HttpRequest, access: Access, job_pk: int) -> HttpResponse:
    connection = access.connection
    job = get_object_or_404(IndexJob, pk=job_pk, connection=connection)
    ctx = {"connection": connection, "job": job}
    if request.htmx:
        response = render(request, "explorer/indexes_job.html#progress", ctx)
        if job.finished:
            stop = HttpResponseStopPolling()
            stop.content = response.content
            return stop
        return response
    return render(request, "explorer/indexes_job.html", ctx)


@login_required
@require_GET
@explorer_view()
def partitions(request: HttpRequest, access: Access) -> HttpResponse:
    connection = access.connection
    form = TableForm(request.GET).valid()
    ns, obj = form.cleaned_data["ns"], form.cleaned_data["obj"]
    with engine(access) as adapter:
        info = require(adapter, Partitioning).partitions(ns, obj)
    ctx = {"connection": connection, "ns": ns, "obj": obj, "info": info}
    return render(request, "explorer/indexes_partitions.html", ctx)
