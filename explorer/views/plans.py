"""EXPLAIN a statement, show a saved plan, compare two plans side by side."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from audit.record import record
from connections.access import Access
from connections.engines import EngineError
from connections.engines.capabilities import Explain
from connections.engines.plantree import plan_from_dict, plan_to_dict
from connections.models import Connection
from explorer import plans
from explorer.models import SavedPlan
from explorer.plan_forms import CompareForm, ExplainForm
from explorer.views.common import STATUS_FOR_KIND, engine, explorer_view, require

RECENT_PLANS = 20
PRODUCTION_ANALYZE = (
    "“{name}” is a production connection: ANALYZE runs the statement (then rolls it back, which does not undo "
    "sequence increments or other side effects); type its name to confirm."
)
ANALYZE_NEEDS_EDITOR = (
    "EXPLAIN ANALYZE runs the statement, so it needs the editor role on this connection; "
    "run it without ANALYZE, or ask a team admin for the editor role."
)


def _recent(connection: Connection) -> list[SavedPlan]:
    return list(
        SavedPlan.objects.filter(connection=connection)
        .only("token", "statement", "analyzed", "created_at", "total_ms", "root_cost", "node_count", "connection_id")
        .order_by("-created_at")[:RECENT_PLANS]
    )


@login_required
@require_http_methods(["GET", "POST"])
@explorer_view()
def explain(request: HttpRequest, access: Access) -> HttpResponse:
    """GET: the form, prefilled from ?statement= (the console links here). POST: explain, save, show."""
    connection = access.connection
    form = ExplainForm(request.POST if request.method == "POST" else request.GET).valid()
    statement, analyze = form.cleaned_data["statement"], bool(form.cleaned_data["analyze"])
    if form.cleaned_data["plan"] and not statement:  # "Explain again" names the saved plan, not its text
        statement = get_object_or_404(SavedPlan, connection=connection, token=form.cleaned_data["plan"]).statement
    ctx: dict[str, Any] = {"connection": connection, "statement": statement, "analyze": analyze}
    status = 200
    with engine(access) as adapter:
        explainer = require(adapter, Explain)
        ctx["engine_analyzes"] = explainer.can_analyze
        ctx["can_analyze"] = explainer.can_analyze and access.can_write
        ctx["example"] = getattr(explainer, "example", "")
        if request.method == "POST":
            if analyze and not access.can_write:
                record("query.explain.denied", request=request, connection=connection, statement=statement)
                raise EngineError(ANALYZE_NEEDS_EDITOR, kind="permission")
            if analyze and connection.production and form.cleaned_data["confirm"] != connection.name:
                # ANALYZE runs the statement; its rollback does not undo sequences, locks or side effects.
                raise ValidationError(PRODUCTION_ANALYZE.format(name=connection.name))
            try:
                plan = explainer.explain(statement, analyze=analyze and explainer.can_analyze)
            except EngineError as exc:
                record(
                    "query.explain",
                    request=request,
                    connection=connection,
                    statement=statement,
                    analyze=analyze,
                    role=access.role.value,
                    outcome="error",
                    error=exc.message,
                )
                ctx["error"] = exc.message
                status = STATUS_FOR_KIND.get(exc.kind, 502)
            else:
                view = plans.read(plan)
                saved = SavedPlan.objects.create(
                    connection=connection,
                    user=request.user,
                    statement=statement,
                    analyzed=plan.analyzed,
                    rolled_back=plan.rolled_back,
                    tree=plan_to_dict(plan),
                    raw=plan.raw,
                    node_count=view.size,
                    total_ms=view.total_ms,
                    root_cost=view.root_cost,
                )
                record(
                    "query.explain",
                    request=request,
                    connection=connection,
                    statement=statement,
                    analyze=plan.analyzed,
                    rolled_back=plan.rolled_back,
                    role=access.role.value,
                    outcome="ok",
                    plan=str(saved.token),
                    nodes=view.size,
                )
                return redirect(saved)
    ctx["recent"] = _recent(connection)
    return render(request, "explorer/plan_explain.html", ctx, status=status)


def _plan_context(connection: Connection, saved: SavedPlan) -> dict[str, Any]:
    view = plans.read(plan_from_dict(saved.tree, saved.raw))
    hints = [
        {
            "text": hint.text,
            "node": hint.node,
            "advice": plans.advice_url(connection.pk, saved.token) if hint.columns else "",
        }
        for hint in view.hints
    ]
    return {"saved": saved, "view": view, "tree": plans.render(view), "hints": hints}


@login_required
@require_GET
@explorer_view()
def plan_detail(request: HttpRequest, access: Access, token: Any) -> HttpResponse:
    connection = access.connection
    saved = get_object_or_404(SavedPlan, connection=connection, token=token)
    ctx = {"connection": connection, "recent": _recent(connection), **_plan_context(connection, saved)}
    return render(request, "explorer/plan.html", ctx)


@login_required
@require_GET
@explorer_view()
def plan_compare(request: HttpRequest, access: Access) -> HttpResponse:
    connection = access.connection
    form = CompareForm(request.GET).valid()
    left = get_object_or_404(SavedPlan, connection=connection, token=form.cleaned_data["a"])
    right = get_object_or_404(SavedPlan, connection=connection, token=form.cleaned_data["b"])
    a, b = _plan_context(connection, left), _plan_context(connection, right)
    ctx = {"connection": connection, "a": a, "b": b, "delta": plans.compare(a["view"], b["view"])}
    return render(request, "explorer/plan_compare.html", ctx)


@login_required
@require_GET
@explorer_view()
def plan_raw(request: HttpRequest, access: Access, token: Any) -> HttpResponse:
    """The engine's own plan text, whole, as a download."""
    saved = get_object_or_404(SavedPlan, connection=access.connection, token=token)
    response = HttpResponse(saved.raw, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="plan-{saved.token}.txt"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
