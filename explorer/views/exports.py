"""Start an export of the current grid view, watch its progress, download the file."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods
from django_htmx.http import HttpResponseStopPolling

from connections.access import Access
from connections.engines import EngineError
from connections.models import Connection
from explorer import numbers, params
from explorer.models import Export, ExportFormat, ExportStatus
from explorer.tasks import export_path, run_export
from explorer.views.common import engine, explorer_view, require_style


def _max_rows_setting() -> int:
    return int(getattr(settings, "DBDECK_EXPORT_MAX_ROWS", 1_000_000))


@login_required
@require_http_methods(["GET", "POST"])
@explorer_view()
def export_start(request: HttpRequest, access: Access) -> HttpResponse:
    connection = access.connection
    ns, obj = request.GET.get("ns", ""), request.GET.get("obj", "")
    if not obj:
        raise EngineError("Choose a table or collection to export.", kind="config")
    with engine(access) as adapter:
        require_style(adapter, "table", "documents")
        formats = [f for f in ExportFormat if f != ExportFormat.SQL or adapter.supports_sql]
        if request.method == "POST":
            fmt = request.POST.get("format", "csv")
            if fmt not in [f.value for f in formats]:
                raise EngineError("Choose CSV, JSON lines or (for SQL engines) INSERT statements.", kind="config")
            most = _max_rows_setting()
            cap = min(numbers.parse_int_or(request.POST.get("max_rows"), most, name="row limit", minimum=1), most)
            state = params.without_paging(request.GET).lstrip("?")
            # Neutralising formulas is the default; raw is an explicit choice for machine readers.
            csv_raw = fmt == ExportFormat.CSV and request.POST.get("csv_mode") == "raw"
            export = Export.objects.create(
                connection=connection,
                user=request.user,
                namespace=ns,
                obj=obj,
                state=state,
                format=fmt,
                max_rows=cap,
                csv_raw=csv_raw,
            )
            transaction.on_commit(lambda: run_export.delay(export.pk))
            return redirect(export)
    ctx = {
        "connection": connection,
        "ns": ns,
        "obj": obj,
        "formats": formats,
        "max_rows": _max_rows_setting(),
        "grid_url": params.link("explorer:browse", connection.pk, ns=ns, obj=obj)
        + "&"
        + params.without_paging(request.GET).lstrip("?"),
    }
    return render(request, "explorer/export.html", ctx)


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
