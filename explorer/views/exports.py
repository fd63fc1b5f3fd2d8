"""Start an export of the current grid view, watch its progress, download the file."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods
from django_htmx.http import HttpResponseStopPolling

from connections.access import Access
from connections.engines.browse import TableBrowsing
from connections.models import Connection
from explorer import params
from explorer.forms import ExportForm, GridForm
from explorer.models import Export, ExportFormat, ExportStatus
from explorer.tasks import export_path, run_export
from explorer.views.common import engine, explorer_view, require


def _max_rows_setting() -> int:
    return int(getattr(settings, "DBDECK_EXPORT_MAX_ROWS", 1_000_000))


@login_required
@require_http_methods(["GET", "POST"])
@explorer_view()
def export_start(request: HttpRequest, access: Access) -> HttpResponse:
    connection = access.connection
    grid = GridForm(request.GET, need_object=True).valid()
    ns, obj = grid.cleaned_data["ns"] or "", grid.cleaned_data["obj"]
    with engine(access) as adapter:
        browsing = require(adapter, TableBrowsing)
        formats = [f for f in ExportFormat if f != ExportFormat.SQL or browsing.exports_sql]
    data = request.POST if request.method == "POST" else None
    form = ExportForm(data, formats=[f.value for f in formats], most=_max_rows_setting())
    if form.is_valid():
        export = Export.objects.create(
            connection=connection,
            user=request.user,
            namespace=ns,
            obj=obj,
            state=params.changed(request.GET, after=None, before=None).urlencode(),
            format=form.cleaned_data["format"],
            max_rows=form.cleaned_data["max_rows"],
            csv_raw=form.cleaned_data["csv_raw"],
        )
        transaction.on_commit(lambda: run_export.delay(export.pk))
        return redirect(export)
    ctx = {
        "connection": connection,
        "ns": ns,
        "obj": obj,
        "form": form,
        "formats": formats,
        "max_rows": _max_rows_setting(),
        "grid_url": reverse("explorer:browse", args=[connection.pk]) + params.without_paging(request.GET),
    }
    return render(request, "explorer/export.html", ctx, status=400 if form.errors else 200)


def _own_export(request: HttpRequest, connection: Connection, export_pk: int) -> Export:
    export = get_object_or_404(Export, pk=export_pk, connection=connection)
    if export.user_id != request.user.pk and not request.user.is_superuser:
        raise Http404("No such export.")
    return export


@login_required
@explorer_view()
def export_status(request: HttpRequest, access: Access, export_pk: int) -> HttpResponse:
    connection = access.connection
    export = _own_export(request, connection, export_pk)
    ctx = {"connection": connection, "export": export}
    if request.htmx:
        response = render(request, "explorer/export_status.html#progress", ctx)
        if export.status in (ExportStatus.DONE, ExportStatus.FAILED):
            stop = HttpResponseStopPolling()
            stop.content = response.content
            return stop
        return response
    return render(request, "explorer/export_status.html", ctx)


@login_required
@explorer_view()
def export_download(request: HttpRequest, access: Access, export_pk: int) -> HttpResponse:
    connection = access.connection
    export = _own_export(request, connection, export_pk)
    path = export_path(export)
    if export.status != ExportStatus.DONE or not path.exists():
        return redirect(export)
    content_type = {"csv": "text/csv", "jsonl": "application/x-ndjson", "sql": "application/sql"}[export.format]
    response = FileResponse(open(path, "rb"), as_attachment=True, filename=export.filename, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    return response
