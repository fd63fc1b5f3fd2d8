"""Indexes: a table's indexes, findings across a namespace, and build / drop jobs with their progress.

Thin over the index pages: the engine's IndexTools capability, the pages' forms (TableForm,
CreateIndexForm, DropIndexForm) for the parameters, and `explorer.index_tasks.queue`, which the
page's buttons call too. Reading needs the viewer role, building and dropping the editor role;
an engine without index tools answers 400 with the page's message.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from accounts.access import NotFound
from accounts.models import Role
from api import access
from api.responses import ENGINE, ID, answers, needs
from api.schemas import Out
from audit.record import record
from connections.access import Access
from connections.engines.browse import TableBrowsing
from connections.engines.capabilities import IndexTools
from explorer import index_tasks
from explorer.models import IndexJob, IndexJobAction
from explorer.plan_forms import CreateIndexForm, DropIndexForm, TableForm
from explorer.views.common import engine, require
from explorer.views.indexes import FINDING_ORDER

router = Router(tags=["indexes"])
jobs = Router(tags=["indexes"])


class IndexOut(Out):
    namespace: str
    table: str
    name: str
    columns: list[str]
    definition: str
    unique: bool
    primary: bool
    backs_constraint: bool
    valid: bool
    size_bytes: int | None
    scans: int | None
    stats_since: dt.datetime | None


class IndexList(Out):
    items: list[IndexOut]
    online: bool = Field(description="Whether this engine builds and drops without blocking writes.")
    notice: str


class IndexFindingOut(Out):
    kind: str = Field(description="invalid, duplicate, prefix, unused or missing (the order they are listed in).")
    namespace: str
    table: str
    index: str
    detail: str
    size_bytes: int | None
    fix: str


class IndexFindingList(Out):
    items: list[IndexFindingOut]
    space_bytes: int = Field(description="Space the fixes would free (missing indexes not counted).")
    notice: str


class IndexJobOut(Out):
    id: int
    connection: int
    action: str
    ns: str
    obj: str
    columns: list[str]
    unique: bool
    index_name: str
    status: str
    phase: str
    done: int
    total: int | None
    percent: int | None
    error: str
    created_at: dt.datetime
    finished_at: dt.datetime | None


class TableQuery(Schema):
    ns: str = Field("", description="Schema or database.")
    obj: str = Field("", description="Table or collection.")


class NsOnly(Schema):
    ns: str = Field("", description="Schema or database.")


class IndexBuildIn(Schema):
    ns: str = ""
    obj: str
    columns: list[str] = Field(max_length=32)
    unique: bool = False
    confirm: str = Field("", max_length=1000, description="A production connection's name, typed to confirm.")


class IndexDropIn(Schema):
    ns: str = ""
    obj: str
    name: str
    confirm: str = Field("", max_length=1000, description="A production connection's name, typed to confirm.")


def _job_out(job: IndexJob) -> dict[str, Any]:
    return {
        "id": job.pk,
        "connection": job.connection_id,
        "action": job.action,
        "ns": job.namespace,
        "obj": job.obj,
        "columns": [str(c) for c in job.columns or []],
        "unique": job.unique,
        "index_name": job.index_name,
        "status": job.status,
        "phase": job.phase,
        "done": job.done,
        "total": job.total,
        "percent": job.percent,
        "error": job.error,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
    }


@router.get("/{id:pk}/indexes", response=answers(IndexList, extra=ENGINE), openapi_extra=needs(Role.VIEWER))
def index_list(request: HttpRequest, pk: ID, query: Query[TableQuery]) -> dict[str, Any]:
    """A table's or collection's indexes with their size and use since the statistics were reset."""
    read = access.connection_for(request, pk)
    form = TableForm(request.GET).valid()
    ns, obj = form.cleaned_data["ns"], form.cleaned_data["obj"]
    with engine(read) as adapter:
        tools = require(adapter, IndexTools)
        if not obj:
            raise ValidationError("Choose a table or collection to see its indexes.")
        indexes = tools.list_indexes(ns, obj)
        notice = getattr(tools, "notice", "")
    items = [
        {
            "namespace": i.namespace,
            "table": i.table,
            "name": i.name,
            "columns": list(i.columns),
            "definition": i.definition,
            "unique": i.unique,
            "primary": i.primary,
            "backs_constraint": i.backs_constraint,
            "valid": i.valid,
            "size_bytes": i.size_bytes,
            "scans": i.scans,
            "stats_since": i.stats_since,
        }
        for i in indexes
    ]
    return {"items": items, "online": tools.online, "notice": notice}


@router.get(
    "/{id:pk}/index-findings", response=answers(IndexFindingList, extra=ENGINE), openapi_extra=needs(Role.VIEWER)
)
def index_findings(request: HttpRequest, pk: ID, query: Query[NsOnly]) -> dict[str, Any]:
    """Invalid, duplicate, prefix and unused indexes and tables scanned without one, worst first (as the page)."""
    read = access.connection_for(request, pk)
    ns = TableForm(request.GET).valid().cleaned_data["ns"]
    with engine(read) as adapter:
        tools = require(adapter, IndexTools)
        findings = sorted(tools.findings(ns), key=lambda f: (FINDING_ORDER.get(f.kind, 9), f.table, f.index))
        notice = getattr(tools, "notice", "")
    record(
        "index.findings",
        request=request,
        connection=read.connection,
        target=ns,
        findings=len(findings),
        **access.via(request),
    )
    items = [
        {
            "kind": f.kind,
            "namespace": f.namespace,
            "table": f.table,
            "index": f.index,
            "detail": f.detail,
            "size_bytes": f.size_bytes,
            "fix": f.fix,
        }
        for f in findings
    ]
    space = sum(f.size_bytes or 0 for f in findings if f.kind != "missing")
    return {"items": items, "space_bytes": space, "notice": notice}


def _check_table(read: Access, ns: str, obj: str, columns: list[str] | None = None) -> None:
    """The engine has index tools and (where it lists columns) the table and columns exist, before queueing."""
    with engine(read) as adapter:
        require(adapter, IndexTools)
        browsing = adapter.get(TableBrowsing)
        if browsing is None or browsing.documents:
            return  # documents: fields are typed, not chosen
        info = browsing.describe(ns, obj)
    known = {c.name for c in info.columns}
    missing = [c for c in columns or [] if c not in known]
    if missing:
        raise ValidationError(f"{obj} has no column {missing[0]}; list its indexes to see the columns it has.")


@router.post(
    "/{id:pk}/index-builds",
    response=answers(IndexJobOut, status=202, extra=ENGINE),
    openapi_extra=needs(Role.EDITOR),
)
def index_build(request: HttpRequest, pk: ID, body: IndexBuildIn) -> Any:
    """Queue an index build (online where the engine can); poll /index-jobs/{id} for its progress."""
    write = access.connection_for(request, pk, need=Role.EDITOR)
    data = {
        "ns": body.ns,
        "obj": body.obj,
        "col": list(body.columns),
        "unique": "1" if body.unique else "",
        "confirm": body.confirm,
    }
    cleaned = CreateIndexForm(data, connection=write.connection).valid().cleaned_data
    _check_table(write, cleaned["ns"], cleaned["obj"], cleaned["col"])
    job = index_tasks.queue(
        request,
        write.connection,
        via=access.via(request),
        action=IndexJobAction.CREATE,
        namespace=cleaned["ns"],
        obj=cleaned["obj"],
        columns=cleaned["col"],
        unique=bool(cleaned["unique"]),
    )
    return Status(202, _job_out(job))


@router.post(
    "/{id:pk}/index-drops",
    response=answers(IndexJobOut, status=202, extra=ENGINE),
    openapi_extra=needs(Role.EDITOR),
)
def index_drop(request: HttpRequest, pk: ID, body: IndexDropIn) -> Any:
    """Queue dropping an index; poll /index-jobs/{id} until it is done or failed."""
    write = access.connection_for(request, pk, need=Role.EDITOR)
    data = {"ns": body.ns, "obj": body.obj, "name": body.name, "confirm": body.confirm}
    cleaned = DropIndexForm(data, connection=write.connection).valid().cleaned_data
    _check_table(write, cleaned["ns"], cleaned["obj"])
    job = index_tasks.queue(
        request,
        write.connection,
        via=access.via(request),
        action=IndexJobAction.DROP,
        namespace=cleaned["ns"],
        obj=cleaned["obj"],
        index_name=cleaned["name"],
    )
    return Status(202, _job_out(job))


@jobs.get("/{id:pk}", response=answers(IndexJobOut), openapi_extra=needs(Role.VIEWER))
def index_job(request: HttpRequest, pk: ID) -> dict[str, Any]:
    """An index build or drop: poll until the status is done or failed."""
    job = IndexJob.objects.filter(pk=pk).first()
    if job is None:
        raise NotFound("No such index job.")
    try:
        access.connection_for(request, job.connection_id)
    except NotFound:
        raise NotFound("No such index job.") from None
    return _job_out(job)
