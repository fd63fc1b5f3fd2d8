"""Exports: start one (the grid's view, every page), poll it, download the file.

The same model and task as the export page (explorer.models.Export, explorer.tasks.run_export):
queued on commit, claimed by the worker with a conditional UPDATE, re-checked for access there.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import FileResponse, HttpRequest, QueryDict
from django.urls import reverse
from ninja import Field, Query, Router, Schema, Status

from accounts.access import NotFound
from accounts.models import Role
from api import access, cursors
from api.problems import Conflict, form_errors
from api.responses import ENGINE, ID, answers, needs
from api.schemas import ExportIn, ExportList, ExportOut
from connections.engines.browse import TableBrowsing
from explorer.forms import ExportForm, GridForm
from explorer.models import Export, ExportFormat, ExportStatus
from explorer.tasks import export_path, run_export
from explorer.views.common import engine, require

router = Router(tags=["exports"])
CONTENT_TYPES = {"csv": "text/csv", "jsonl": "application/x-ndjson", "sql": "application/sql"}


def out(export: Export) -> dict[str, Any]:
    done = export.status == ExportStatus.DONE
    return {
        "id": export.pk,
        "connection": export.connection_id,
        "status": export.status,
        "ns": export.namespace,
        "obj": export.obj,
        "format": export.format,
        "mode": export.mode,
        "rows_written": export.rows_written,
        "bytes_written": export.bytes_written,
        "estimated_rows": export.estimated_rows,
        "percent": export.percent,
        "error": export.error,
        "created_at": export.created_at,
        "finished_at": export.finished_at,
        "download": reverse("api-1:export_download", args=[export.connection_id, export.pk]) if done else None,
    }


def grid_state(body: ExportIn) -> QueryDict:
    """The export's view as the grid's query string, which the worker parses with GridForm again."""
    state = QueryDict(mutable=True)
    fields = {"ns": body.ns, "obj": body.obj, "sort": body.sort, "q": body.q, "proj": body.proj, "msort": body.msort}
    for name, value in fields.items():
        if value:
            state[name] = value
    if body.desc:
        state["desc"] = "1"
    state.setlist("fc", [f.column for f in body.filters])
    state.setlist("fo", [f.op for f in body.filters])
    state.setlist("fv", [f.value for f in body.filters])
    state.setlist("col", list(body.columns))
    return state


@router.post(
    "/{id:pk}/exports", response=answers(ExportOut, status=202, extra=ENGINE), openapi_extra=needs(Role.VIEWER)
)
def export_start(request: HttpRequest, pk: ID, body: ExportIn) -> Any:
    """Queue an export of a table or collection (filters, sort and columns as the grid has them)."""
    read = access.connection_for(request, pk)
    state = grid_state(body)
    grid = GridForm(state, need_object=True).valid()
    with engine(read) as adapter:
        browsing = require(adapter, TableBrowsing)
        formats = [f.value for f in ExportFormat if f != ExportFormat.SQL or browsing.exports_sql]
    most = int(getattr(settings, "DBDECK_EXPORT_MAX_ROWS", 1_000_000))
    options = {"format": body.format, "max_rows": "" if body.max_rows is None else str(body.max_rows)}
    form = ExportForm({**options, "csv_mode": body.csv_mode}, formats=formats, most=most)
    if not form.is_valid():
        return form_errors(form.errors)
    export = Export.objects.create(
        connection=read.connection,
        user=request.user,
        namespace=grid.cleaned_data["ns"] or "",
        obj=grid.cleaned_data["obj"],
        state=state.urlencode(),
        format=form.cleaned_data["format"],
        max_rows=form.cleaned_data["max_rows"],
        csv_raw=form.cleaned_data["csv_raw"],
    )
    transaction.on_commit(lambda: run_export.delay(export.pk))
    return Status(202, out(export))


def _own(request: HttpRequest, pk: int, export_pk: int) -> Export:
    """An export of this connection made by this user (superusers see all), else 404 as the page does."""
    connection = access.connection_for(request, pk).connection
    export = Export.objects.filter(pk=export_pk, connection=connection).first()
    if export is None or (export.user_id != request.user.pk and not request.user.is_superuser):
        raise NotFound("No such export.")
    return export


class Paging(Schema):
    cursor: str = Field("", description="next_cursor of the previous page.")
    limit: int = Field(50, ge=1, le=200)


@router.get("/{id:pk}/exports", response=answers(ExportList), openapi_extra=needs(Role.VIEWER))
def export_list(request: HttpRequest, pk: ID, paging: Query[Paging]) -> dict[str, Any]:
    """Your exports of this connection, newest first."""
    connection = access.connection_for(request, pk).connection
    found = Export.objects.filter(connection=connection).order_by("-id")
    if not request.user.is_superuser:
        found = found.filter(user=request.user)
    before = cursors.read_id(paging.cursor)
    if before:
        found = found.filter(id__lt=before)
    page = list(found[: paging.limit + 1])
    more = len(page) > paging.limit
    page = page[: paging.limit]
    return {"items": [out(e) for e in page], "next_cursor": cursors.make_id(page[-1].pk) if more else None}


@router.get("/{id:pk}/exports/{id:export_pk}", response=answers(ExportOut), openapi_extra=needs(Role.VIEWER))
def export_status(request: HttpRequest, pk: ID, export_pk: ID) -> dict[str, Any]:
    """Poll until status is done or failed; `percent` is null while the size is unknown."""
    return out(_own(request, pk, export_pk))


@router.get(
    "/{id:pk}/exports/{id:export_pk}/download",
    response=answers(bytes, extra=(409,)),
    url_name="export_download",
    openapi_extra={
        **needs(Role.VIEWER),
        "responses": {200: {"description": "The file.", "content": {t: {} for t in CONTENT_TYPES.values()}}},
    },
)
def export_download(request: HttpRequest, pk: ID, export_pk: ID) -> Any:
    export = _own(request, pk, export_pk)
    path = export_path(export)
    if export.status != ExportStatus.DONE or not path.exists():
        raise Conflict(f"The export is {export.get_status_display().lower()}; download it once it is done.")
    return FileResponse(
        open(path, "rb"), as_attachment=True, filename=export.filename, content_type=CONTENT_TYPES[export.format]
    )
