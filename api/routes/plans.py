"""EXPLAIN plans: explain a statement (saved, as the page saves it), read a saved plan.

Thin over the EXPLAIN page's pieces: the engine's Explain capability, explorer.plans.read for the
summary and hints, SavedPlan for the shareable result. ANALYZE runs the statement, so it needs
the editor role and, on production, the connection's name typed — the page's own rules and words.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from accounts.access import NotFound
from accounts.models import Role
from api import access
from api.responses import ENGINE, ID, answers, needs
from api.schemas import Out
from audit.record import record
from connections.engines import EngineError
from connections.engines.capabilities import Explain
from connections.engines.plantree import plan_from_dict, plan_to_dict
from explorer import plans
from explorer.models import SavedPlan
from explorer.plan_forms import MAX_STATEMENT_CHARS
from explorer.views.common import engine, require
from explorer.views.plans import ANALYZE_NEEDS_EDITOR, PRODUCTION_ANALYZE

router = Router(tags=["plans"])


class ExplainIn(Schema):
    statement: str = Field(max_length=MAX_STATEMENT_CHARS)
    analyze: bool = Field(False, description="Run the statement (then roll back) for real timings: editors.")
    confirm: str = Field("", max_length=1000, description="A production connection's name, for ANALYZE.")


class PlanHintOut(Out):
    text: str
    node: int | None


class PlanNodeOut(Out):
    depth: int
    operation: str
    relation: str
    index: str
    estimated_rows: float | None
    actual_rows: float | None
    loops: int | None
    inclusive_ms: float | None
    exclusive_ms: float | None
    detail: dict[str, Any]


class SavedPlanOut(Out):
    token: uuid.UUID
    statement: str
    analyzed: bool
    rolled_back: bool
    node_count: int
    total_ms: float | None
    root_cost: float | None
    created_at: dt.datetime
    hints: list[PlanHintOut]
    nodes: list[PlanNodeOut] = Field(description="The plan tree in pre-order (first 1,000 nodes); raw has everything.")
    raw: str


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value if value is None or isinstance(value, bool | int | float | str) else str(value)


def _out(saved: SavedPlan) -> dict[str, Any]:
    view = plans.read(plan_from_dict(saved.tree, saved.raw))
    nodes = [
        {
            "depth": depth,
            "operation": node.operation,
            "relation": node.relation,
            "index": node.index,
            "estimated_rows": node.estimated_rows,
            "actual_rows": node.actual_rows,
            "loops": node.loops,
            "inclusive_ms": node.inclusive_ms,
            "exclusive_ms": node.exclusive_ms,
            "detail": _jsonable(node.detail),
        }
        for node, depth in view.nodes[:1000]
    ]
    return {
        "token": saved.token,
        "statement": saved.statement,
        "analyzed": saved.analyzed,
        "rolled_back": saved.rolled_back,
        "node_count": saved.node_count,
        "total_ms": saved.total_ms,
        "root_cost": saved.root_cost,
        "created_at": saved.created_at,
        "hints": [{"text": h.text, "node": h.node} for h in view.hints],
        "nodes": nodes,
        "raw": saved.raw,
    }


@router.post(
    "/{id:pk}/explain", response=answers(SavedPlanOut, status=201, extra=ENGINE), openapi_extra=needs(Role.VIEWER)
)
def explain(request: HttpRequest, pk: ID, body: ExplainIn) -> Any:
    """EXPLAIN a statement (ANALYZE for editors); the plan is saved and can be read again by its token."""
    read = access.connection_for(request, pk)
    connection = read.connection
    if not body.statement.strip():
        raise ValidationError("Type a statement to explain.")
    with engine(read) as adapter:
        explainer = require(adapter, Explain)
        if body.analyze and not read.can_write:
            record("query.explain.denied", request=request, connection=connection, statement=body.statement)
            raise EngineError(ANALYZE_NEEDS_EDITOR, kind="permission")
        if body.analyze and connection.production and body.confirm != connection.name:
            raise ValidationError(PRODUCTION_ANALYZE.format(name=connection.name))
        try:
            plan = explainer.explain(body.statement, analyze=body.analyze and explainer.can_analyze)
        except EngineError as exc:
            record(
                "query.explain",
                request=request,
                connection=connection,
                statement=body.statement,
                analyze=body.analyze,
                role=read.role.value,
                outcome="error",
                error=exc.message,
                **access.via(request),
            )
            raise
    view = plans.read(plan)
    saved = SavedPlan.objects.create(
        connection=connection,
        user=request.user,
        statement=body.statement,
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
        statement=body.statement,
        analyze=plan.analyzed,
        rolled_back=plan.rolled_back,
        role=read.role.value,
        outcome="ok",
        plan=str(saved.token),
        nodes=view.size,
        **access.via(request),
    )
    return Status(201, _out(saved))


@router.get("/{id:pk}/plans/{token}", response=answers(SavedPlanOut), openapi_extra=needs(Role.VIEWER))
def plan_detail(request: HttpRequest, pk: ID, token: uuid.UUID) -> dict[str, Any]:
    """A saved plan: anyone who may open the connection may open it."""
    read = access.connection_for(request, pk)
    saved = SavedPlan.objects.filter(connection=read.connection, token=token).first()
    if saved is None:
        raise NotFound("No such plan.")
    return _out(saved)
