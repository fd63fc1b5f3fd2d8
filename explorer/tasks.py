"""Background exports: stream every page of a grid view to a file, reporting progress."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from celery import shared_task
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils import timezone

from accounts.access import AccessDenied
from accounts.models import Role
from audit.record import record
from connections.access import get_connection_for
from connections.engines import EngineError
from connections.engines.browse import TableBrowsing
from explorer.console import jobs as console_jobs  # noqa: F401  (registers the console's tasks)
from explorer.console.export_source import statement_rows
from explorer.console.recording import without_values
from explorer.export import FormulaGuard, csv_lines, insert_lines, json_lines
from explorer.forms import GridForm
from explorer.models import Export, ExportFormat, ExportStatus

log = logging.getLogger(__name__)
PROGRESS_EVERY_S = 0.5


def export_path(export: Export) -> Path:
    folder = Path(settings.VAR_DIR) / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / export.filename


@shared_task(acks_late=True, time_limit=3 * 3600, soft_time_limit=3 * 3600 - 60)
def run_export(export_id: int) -> str:
    # Claim with a conditional UPDATE so a redelivered task never runs twice.
    if not Export.objects.filter(pk=export_id, status=ExportStatus.QUEUED).update(status=ExportStatus.RUNNING):
        return "skipped"
    export = Export.objects.select_related("connection", "user").get(pk=export_id)
    path = export_path(export)
    try:
        # The task re-checks scope: a user removed from the team since queueing gets nothing.
        connection, role = get_connection_for(export.user, export.connection_id)
    except AccessDenied as exc:
        return _access_removed(export, exc)
    try:
        adapter = connection.adapter(read_only=not role.allows(Role.EDITOR))
        if export.statement:
            with adapter:
                return _console_export(export, connection, adapter, path)
        request = GridForm(QueryDict(export.state)).valid().page_request()
        with adapter:
            browsing = adapter.get(TableBrowsing)
            if browsing is None:
                raise EngineError(f"{adapter.display_name} has no tables or collections to export.", kind="config")
            info = browsing.describe(export.namespace, export.obj)
            columns = list(request.columns) or [c.name for c in info.columns]
            Export.objects.filter(pk=export.pk).update(estimated_rows=info.estimated_rows)
            rows = browsing.export(export.namespace, export.obj, request, export.max_rows)
            guard = FormulaGuard(raw=export.csv_raw)
            if export.format == ExportFormat.JSONL:
                chunks = json_lines(columns, rows)
            elif export.format == ExportFormat.SQL:
                chunks = insert_lines(
                    lambda row: browsing.insert_statement(export.namespace, export.obj, columns, row), rows
                )
            else:
                chunks = csv_lines(columns, rows, guard)
            header_chunks = 1 if export.format == ExportFormat.CSV else 0  # CSV's first chunk is its header
            written = count = 0
            last = time.monotonic()
            with open(path, "wb") as out:
                for chunk in chunks:
                    out.write(chunk)
                    written += len(chunk)
                    count += 1
                    if time.monotonic() - last > PROGRESS_EVERY_S:
                        last = time.monotonic()
                        Export.objects.filter(pk=export.pk).update(
                            rows_written=count - header_chunks, bytes_written=written
                        )
        rows_done = count - header_chunks
        Export.objects.filter(pk=export.pk).update(
            status=ExportStatus.DONE,
            rows_written=rows_done,
            bytes_written=written,
            neutralised_cells=guard.cells,
            finished_at=timezone.now(),
        )
        export.status, export.neutralised_cells = ExportStatus.DONE, guard.cells
        record(
            "data.export",
            actor=export.user,
            connection=connection,
            target=f"{export.namespace}.{export.obj}",
            format=export.format,
            mode=export.mode,
            neutralised_cells=guard.cells,
            rows=rows_done,
            bytes=written,
        )
        return "done"
    except EngineError as exc:
        message = exc.message
    except ValidationError as exc:  # the grid state it was queued with no longer parses
        message = " ".join(exc.messages)
    except Exception:
        log.exception("export %s failed", export_id)
        message = "The export failed unexpectedly; the worker log has details."
    path.unlink(missing_ok=True)
    Export.objects.filter(pk=export_id).update(
        status=ExportStatus.FAILED, error=message[:500], finished_at=timezone.now()
    )
    return "failed"


def _console_export(export: Export, connection: Any, adapter: Any, path: Path) -> str:
    """A console statement's full result, written by the same CSV / JSON-lines writers as the grid's."""
    columns, rows = statement_rows(adapter, export.statement, export.max_rows)
    guard = FormulaGuard(raw=export.csv_raw)
    chunks = json_lines(columns, rows) if export.format == ExportFormat.JSONL else csv_lines(columns, rows, guard)
    header = 1 if export.format == ExportFormat.CSV else 0
    written = count = 0
    last = time.monotonic()
    with open(path, "wb") as out:
        for chunk in chunks:
            out.write(chunk)
            written += len(chunk)
            count += 1
            if time.monotonic() - last > PROGRESS_EVERY_S:
                last = time.monotonic()
                Export.objects.filter(pk=export.pk).update(rows_written=count - header, bytes_written=written)
    Export.objects.filter(pk=export.pk).update(
        status=ExportStatus.DONE,
        rows_written=count - header,
        bytes_written=written,
        neutralised_cells=guard.cells,
        finished_at=timezone.now(),
    )
    record(
        "data.export",
        actor=export.user,
        connection=connection,
        target="console statement",
        statement=without_values(export.statement),
        format=export.format,
        rows=count - header,
        bytes=written,
    )
    return "done"


ACCESS_REMOVED = (
    "Access removed: {user} can no longer read this connection, so the export stopped before reading any data. "
    "Ask a team admin for access, then start the export again."
)


def _access_removed(export: Export, exc: AccessDenied) -> str:
    """Fail the job with a message and an audit event; the worker log gets no traceback for this."""
    message = ACCESS_REMOVED.format(user=export.user.get_username())
    export_path(export).unlink(missing_ok=True)
    Export.objects.filter(pk=export.pk).update(
        status=ExportStatus.FAILED, error=message[:500], finished_at=timezone.now()
    )
    record(
        "data.export.denied",
        actor=export.user,
        connection=export.connection,
        target=f"{export.namespace}.{export.obj}",
        reason=exc.message,
    )
    log.info("export %s stopped: access removed for %s", export.pk, export.user.get_username())
    return "access removed"


# Index builds live in their own module; imported here so the worker registers them.
from explorer.index_tasks import run_index_job  # noqa: E402, F401
