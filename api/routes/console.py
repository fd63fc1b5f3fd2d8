"""Console statements as jobs: submit a run, poll it, cancel it, export a result in full.

Thin over the console's own models (explorer.console): the API writes a ConsoleRun into the
caller's console session and rings its host, exactly as the console page does; the host vets
and runs it (viewers get the read-only session, production writes need the typed name) and
writes the results, history and audit events. A result's rows come out through the console's
export (the export task re-runs the statement and streams it to a file), never as HTML.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema, Status

from accounts.access import NotFound
from accounts.models import Role
from api import access
from api.responses import ID, answers, needs
from api.routes.exports import out as export_out
from api.schemas import ExportOut, Out
from connections.access import Access
from connections.engines.capabilities import Console
from explorer.console import wake
from explorer.console.forms import MAX_TEXT
from explorer.console.jobs import start_host
from explorer.console.models import (
    ConsoleResult,
    ConsoleRun,
    ConsoleSession,
    RunStatus,
    SessionStatus,
)
from explorer.models import Export, ExportFormat
from explorer.tasks import run_export

router = Router(tags=["console"])


class ConsoleRunIn(Schema):
    text: str = Field(max_length=MAX_TEXT, description="One or more statements, as typed in the console.")
    batch: int = Field(100, ge=1, le=1000, description="Rows per result page kept by the console.")
    confirm_name: str = Field("", max_length=200, description="A production connection's name, to allow writes.")
    confirm_dangerous: bool = Field(False, description="Admins: allow administrative commands.")


class ConsoleResultOut(Out):
    id: int
    statement: int
    text: str
    columns: list[str]
    shown: int
    has_more: bool
    rowcount: int | None
    error: str
    error_position: int | None
    notice: str
    elapsed_ms: float | None
    done: bool


class ConsoleRunOut(Out):
    id: int
    status: str
    message: str
    session: int
    read_only: bool
    created_at: dt.datetime
    finished_at: dt.datetime | None
    results: list[ConsoleResultOut]


class ConsoleExportIn(Schema):
    format: str = Field("csv", description="csv or jsonl.")


def _session(request: HttpRequest, read: Access) -> ConsoleSession:
    """The caller's open console session on this connection (the page's own), or a new one with its host."""
    read_only = not read.can_write
    session = (
        ConsoleSession.objects.filter(user=request.user, connection=read.connection, read_only=read_only)
        .exclude(status=SessionStatus.CLOSED)
        .order_by("-id")
        .first()
    )
    if session is None:
        session = ConsoleSession.objects.create(user=request.user, connection=read.connection, read_only=read_only)
        pk = session.pk
        transaction.on_commit(lambda: start_host(pk))
    ConsoleSession.objects.filter(pk=session.pk).update(touched_at=timezone.now())
    return session


def _run_out(run: ConsoleRun) -> dict[str, Any]:
    results = ConsoleResult.objects.filter(run=run).defer("html")
    return {
        "id": run.pk,
        "status": run.status,
        "message": run.message,
        "session": run.session_id,
        "read_only": run.session.read_only,
        "created_at": run.created_at,
        "finished_at": run.finished_at,
        "results": [
            {
                "id": r.pk,
                "statement": r.statement,
                "text": r.text,
                "columns": [str(c) for c in r.columns or []],
                "shown": r.shown,
                "has_more": r.has_more,
                "rowcount": r.rowcount,
                "error": r.error,
                "error_position": r.error_position,
                "notice": r.notice,
                "elapsed_ms": r.elapsed_ms,
                "done": r.done,
            }
            for r in results
        ],
    }


def _own_run(request: HttpRequest, read: Access, run_pk: int) -> ConsoleRun:
    run = ConsoleRun.objects.select_related("session").filter(pk=run_pk, session__connection=read.connection).first()
    if run is None or run.session.user_id != request.user.pk:
        raise NotFound("No such run.")
    ConsoleSession.objects.filter(pk=run.session_id).update(touched_at=timezone.now())
    return run


def _console(read: Access) -> None:
    cls = read.connection.adapter_cls
    if not cls.has(Console):
        from connections.engines import EngineError

        raise EngineError(f"{cls.display_name} has no query console.", "config")


@router.post("/{id:pk}/console/runs", response=answers(ConsoleRunOut, status=202), openapi_extra=needs(Role.VIEWER))
def run_submit(request: HttpRequest, pk: ID, body: ConsoleRunIn) -> Any:
    """Queue statements in your console session; poll the run until its status is done, failed or cancelled."""
    read = access.connection_for(request, pk)
    _console(read)
    if not body.text.strip():
        from django.core.exceptions import ValidationError

        raise ValidationError("Type a statement first.")
    session = _session(request, read)
    confirm = body.confirm_name.strip()
    run = ConsoleRun.objects.create(
        session=session,
        text=body.text,
        batch=body.batch,
        write_confirmed=bool(confirm) and confirm == read.connection.name,
        dangerous_confirmed=body.confirm_dangerous and read.role.allows(Role.ADMIN),
    )
    transaction.on_commit(lambda: wake.ring(session.pk))
    run.session = session
    return Status(202, _run_out(run))


@router.get("/{id:pk}/console/runs/{id:run_pk}", response=answers(ConsoleRunOut), openapi_extra=needs(Role.VIEWER))
def run_status(request: HttpRequest, pk: ID, run_pk: ID) -> dict[str, Any]:
    read = access.connection_for(request, pk)
    run = _own_run(request, read, run_pk)
    wake.ring(run.session_id)
    return _run_out(run)


@router.post(
    "/{id:pk}/console/runs/{id:run_pk}/cancel", response=answers(ConsoleRunOut), openapi_extra=needs(Role.VIEWER)
)
def run_cancel(request: HttpRequest, pk: ID, run_pk: ID) -> dict[str, Any]:
    """Cancel a queued or running run (the host sends the engine's cancel request)."""
    read = access.connection_for(request, pk)
    run = _own_run(request, read, run_pk)
    ConsoleRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(status=RunStatus.CANCELLING)
    ConsoleRun.objects.filter(pk=run.pk, status=RunStatus.QUEUED).update(
        status=RunStatus.CANCELLED, message="Cancelled before it started."
    )
    wake.ring(run.session_id)
    run.refresh_from_db()
    return _run_out(run)


@router.post(
    "/{id:pk}/console/results/{id:result_pk}/export",
    response=answers(ExportOut, status=202),
    openapi_extra=needs(Role.VIEWER),
)
def result_export(request: HttpRequest, pk: ID, result_pk: ID, body: ConsoleExportIn) -> Any:
    """Export a result's statement in full (CSV or JSON lines); poll and download it as any export."""
    read = access.connection_for(request, pk)
    result = (
        ConsoleResult.objects.select_related("run__session")
        .filter(pk=result_pk, run__session__connection=read.connection)
        .defer("html")
        .first()
    )
    if result is None or result.run.session.user_id != request.user.pk:
        raise NotFound("No such result.")
    if body.format not in (ExportFormat.CSV, ExportFormat.JSONL):
        from django.core.exceptions import ValidationError

        raise ValidationError("Console results export as CSV or JSON lines.")
    export = Export.objects.create(
        connection=read.connection,
        user=request.user,
        obj="console statement",
        statement=result.text,
        format=body.format,
        max_rows=int(getattr(settings, "DBDECK_EXPORT_MAX_ROWS", 1_000_000)),
    )
    transaction.on_commit(lambda: run_export.delay(export.pk))
    return Status(202, export_out(export))
